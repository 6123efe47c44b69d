import { h } from './dom.js';
import { t } from './i18n.js';

/**
 * Every action is confirmed in a modal dialog before it is sent: it says what will happen and,
 * where the API takes one, asks for a comment or a reason (a kill switch needs a reason, so the
 * audit log says why). Resolves with the text entered, or null when cancelled.
 */
export interface ConfirmOptions {
  title: string;
  message: string;
  confirmLabel: string;
  /** Ask for text: 'optional' (a comment) or 'required' (a reason); omitted: just confirm. */
  text?: { label: string; required: boolean };
  danger?: boolean;
}

export function confirmAction(options: ConfirmOptions): Promise<string | null> {
  return new Promise((resolve) => {
    const input = options.text
      ? h('textarea', { id: 'confirm-text', name: 'text', rows: 3, maxlength: 1000, required: options.text.required, 'data-key': 'confirm-text' })
      : undefined;
    const cancel = h('button', { type: 'button', class: 'secondary', value: 'cancel' }, t('Cancel'));
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'confirm-title' }, options.title),
      h('p', { id: 'confirm-message' }, options.message),
      input ? [h('label', { for: 'confirm-text' }, options.text!.label, options.text!.required ? '' : t(' (optional)')), input] : null,
      h(
        'div',
        { class: 'dialog-buttons' },
        cancel,
        h('button', { type: 'submit', class: options.danger ? 'danger' : 'primary', value: 'confirm' }, options.confirmLabel),
      ),
    );
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-message' }, form);
    let answer: string | null = null;
    form.addEventListener('submit', (event) => {
      // The form's own validation (required reason) has passed by the time submit fires.
      const text = input ? input.value.trim() : '';
      if (options.text?.required && !text) {
        event.preventDefault();
        input?.focus();
        return;
      }
      answer = text;
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    (input ?? cancel).focus();
  });
}
