import { poll, type Poller } from './api.js';
import { drawCharts } from './chart.js';
import { tickClocks } from './clocks.js';
import { clearError, showError } from './status.js';

/**
 * A page region kept current from one API path: each new answer is drawn, then its clocks and
 * charts are filled in; a failed poll shows why in the status line until a poll succeeds again.
 */
export function live<T>(path: string, draw: (data: T) => void): Poller {
  return poll<T>(path, {
    onData(data) {
      draw(data);
      tickClocks();
      drawCharts(document);
    },
    onOk: clearError,
    onError: showError,
  });
}
