import { buildFixture } from './fixture.js';
import { startStack } from './stack.js';
const fx = buildFixture();
console.log('fixture json bytes', JSON.stringify(fx).length);
const s = await startStack('redis', fx);
try {
  for (const enc of ['gzip', 'identity']) {
    const r = await fetch(s.url + '/api/client/features', { headers: { Authorization: s.clientSecret, 'Unleash-Client-Spec': '5.2.0', 'Accept-Encoding': enc } });
    const b = Buffer.from(await r.arrayBuffer());
    console.log(enc, r.status, r.headers.get('content-encoding'), r.headers.get('content-length'), r.headers.get('etag'), b.length);
  }
} finally { await s.stop(); }
