import http from 'node:http';

/**
 * A minimal SSE reader for GET /api/client/streaming: one plain socket per stream (agent: false),
 * which waits for `unleash-connected` and then reports every `unleash-updated` event that names
 * the watched flag (or any flag the predicate accepts), with the time (performance.now()) the event
 * was completely received and the feature as sent.
 */
export interface StreamedFeature {
  name: string;
  enabled: boolean;
  strategies?: Array<{ name: string; parameters?: Record<string, string> }>;
}

export interface RawStream {
  got: Array<number | undefined>;
  unexpected: number;
  /** Events naming the flag, and the last SSE id seen. */
  updates: number;
  lastId: number;
  closed: boolean;
  close(): void;
}

export function openStream(
  url: string,
  secret: string,
  flag: string | ((name: string) => boolean),
  appName: string,
  onUpdate: (stream: RawStream, enabled: boolean, at: number, feature: StreamedFeature) => void,
  timeoutMs = 20_000,
): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    let connected = false;
    let buffer = '';
    const watched = typeof flag === 'string' ? (name: string) => name === flag : flag;
    const stream: RawStream = {
      got: [],
      unexpected: 0,
      updates: 0,
      lastId: 0,
      closed: false,
      close: () => req.destroy(),
    };
    const timer = setTimeout(() => req.destroy(new Error(`stream ${appName} not connected within ${timeoutMs} ms`)), timeoutMs);

    const handle = (block: string, at: number) => {
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trimStart();
        else if (line.startsWith('id:')) stream.lastId = Number(line.slice(3).trim());
      }
      if (event === 'unleash-connected' && !connected) {
        connected = true;
        clearTimeout(timer);
        resolve(stream);
      } else if (event === 'unleash-updated') {
        const events = (JSON.parse(data) as { events: Array<{ type: string; feature?: StreamedFeature }> }).events;
        for (const e of events) {
          if (e.type === 'feature-updated' && e.feature && watched(e.feature.name)) {
            stream.updates++;
            onUpdate(stream, e.feature.enabled, at, e.feature);
          }
        }
      }
    };

    const req = http.get(
      `${url}/api/client/streaming`,
      {
        agent: false,
        headers: {
          Authorization: secret,
          Accept: 'text/event-stream',
          'Cache-Control': 'no-cache',
          'Unleash-Client-Spec': '5.2.0',
          'unleash-appname': appName,
          'unleash-sdk': 'bench-raw-sse:1.0.0',
        },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          req.destroy(new Error(`stream ${appName}: HTTP ${res.statusCode}`));
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const at = performance.now();
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (!block.startsWith(':')) handle(block, at);
          }
        });
        res.on('close', () => (stream.closed = true));
      },
    );
    req.on('error', (err) => {
      stream.closed = true;
      clearTimeout(timer);
      if (!connected) reject(err);
    });
  });
}
