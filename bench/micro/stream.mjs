// The OpenAI stream path in-process, per stream of the bench's 18 events (16 text chunks, the usage chunk, [DONE]):
// MICRO_STAGE=translator (the byte path alone), relay (+ relayStream's frames), write (+ writeFrames to a response).
import { Writable } from 'node:stream';
import { frames } from '../answers.mjs';
import { load, measure } from './common.mjs';

const [{ openai }, { relayStream }, { writeFrames }, { Cancellation }] = await Promise.all(
  ['providers/openai/index.js', 'stream/relay.js', 'stream/write.js', 'transport/cancellation.js'].map(load),
);
const stage = process.env.MICRO_STAGE ?? 'relay';

// The stand-in upstream's stream (bench/answers.mjs), arriving as one read, as it does on loopback.
const wire = Buffer.concat(frames(16));

const provider = openai({ apiKey: 'sk-micro' });
const info = { id: 'chatcmpl-micro', created: 1, model: 'openai/gpt-4o-mini' };
class Sink extends Writable {
  _write(_chunk, _encoding, done) {
    done();
  }
  flushHeaders() {}
}
async function* upstream() {
  yield wire;
}

async function oneStream() {
  const translator = provider.streamTranslator(info, true);
  if (stage === 'translator') {
    const out = [];
    translator.pushBytes(wire, out);
    translator.pushBytes(null, out);
    Buffer.concat(out);
    return;
  }
  const { frames, outcome } = relayStream(upstream(), translator, { signal: new Cancellation() });
  if (stage === 'relay') for await (const _ of frames);
  else await writeFrames(frames, new Sink());
  await outcome;
}

await measure(`stream, ${stage}`, { batches: 20_000 }, oneStream);
