// Intent detection and code measurement: the table is data, matching is on word boundaries, scanning stays bounded.
import { describe, expect, it } from 'vitest';
import { compileIntentTable, DEFAULT_INTENT_TABLE, taskFeatures, type IntentTable } from '../../src/core/intent.js';
import { parseChatRequest } from '../../src/core/request.js';

const ask = (user: string, system?: string) =>
  parseChatRequest({
    model: 'auto',
    messages: [...(system === undefined ? [] : [{ role: 'system', content: system }]), { role: 'user', content: user }],
  });

describe('taskFeatures with the default table', () => {
  it.each([
    ['Classify this email as spam or not spam: "You won!"', 'classify'],
    ['Extract all dates from this text: we met on 3 May and again on 9 June.', 'extract'],
    ['Summarize this thread in two sentences: ...', 'summarise'],
    ['Draft a polite reply to this customer who wants a refund.', 'draft'],
    ['Analyse the attached annual report and assess the main risks.', 'analyse'],
    ['Write a Python function that parses ISO dates, with unit tests.', 'code'],
    ['Draft a GDPR-compliant clause on sub-processors for our DPA.', 'legal'],
    ['What is a good name for a puppy?', 'chat'],
  ])('%s → %s', (text, intent) => {
    expect(taskFeatures(ask(text)).intent).toBe(intent);
  });

  it('lets the system prompt outweigh the user turn, since it states the task', () => {
    // "summary" in the user text alone would say summarise; the system prompt says classify.
    const f = taskFeatures(ask('Short summary: package arrived broken, customer angry.', 'Classify the sentiment of the message. One word.'));
    expect(f.intent).toBe('classify');
  });

  it('matches whole words and stems, not substrings', () => {
    // "nda" must not fire inside "agenda", nor "aml" inside "Hamlet"; "summar*" covers summarise and summarize.
    expect(taskFeatures(ask('Add Hamlet tickets to the agenda please', 'Agenda assistant for Hamlet rehearsals.')).intent).toBe('chat');
    expect(taskFeatures(ask('Please summarize the call')).intent).toBe('summarise');
    expect(taskFeatures(ask('Please summarise the call')).intent).toBe('summarise');
  });

  it('needs more than one stray weak word to leave chat', () => {
    expect(taskFeatures(ask('Is there a bug spray that is safe for dogs?')).intent).toBe('chat');
  });

  it('reads instructions before or after a pasted document, and skips its middle', () => {
    const filler = 'The weather was mild and the harbour was quiet all week. '.repeat(400);
    expect(taskFeatures(ask(`${filler}\n\nSummarise the text above.`)).intent).toBe('summarise');
    expect(taskFeatures(ask(`Summarise the text below.\n\n${filler}`)).intent).toBe('summarise');
    // A keyword buried in the middle of a long text is not the request's task.
    expect(taskFeatures(ask(`${filler} We discussed GDPR compliance at lunch. ${filler}`)).intent).toBe('chat');
  });

  it('counts user turns, and reads the last user turn, not earlier ones', () => {
    const req = parseChatRequest({
      model: 'auto',
      messages: [
        { role: 'user', content: 'Summarise this: the launch moved to May.' },
        { role: 'assistant', content: 'The launch is now in May.' },
        { role: 'user', content: 'Thanks! What is a good name for the launch party?' },
      ],
    });
    const f = taskFeatures(req);
    expect(f.turns).toBe(2);
    expect(f.intent).toBe('chat');
  });

  it('reads text parts of multimodal content', () => {
    const req = parseChatRequest({
      model: 'auto',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Extract the total from this receipt' }, { type: 'image_url', image_url: { url: 'https://x.example/r.jpg' } }] }],
    });
    expect(taskFeatures(req).intent).toBe('extract');
  });
});

describe('code presence', () => {
  it('finds fenced blocks and the share of code-like text', () => {
    const f = taskFeatures(ask('What does this do?\n```js\nconst x = items.map((i) => i.id);\nconsole.log(x);\n```'));
    expect(f.codeBlocks).toBe(1);
    expect(f.hasCode).toBe(true);
    expect(f.codeShare).toBeGreaterThan(0.5);
    expect(f.intent).toBe('code');
  });

  it('sees unfenced code lines too, and none in prose', () => {
    const code = taskFeatures(ask('def total(xs):\n    return sum(x.price for x in xs)\n\nif total(cart) > 100:\n    apply_discount(cart)'));
    expect(code.codeBlocks).toBe(0);
    expect(code.codeShare).toBeGreaterThanOrEqual(0.4);
    const prose = taskFeatures(ask('If you are free on Friday, for example after lunch, let me know.\nReturn the keys to reception when you leave.'));
    expect(prose.hasCode).toBe(false);
    expect(prose.codeShare).toBe(0);
  });
});

describe('a replaced table', () => {
  it('is data: a host adds its own intent and patterns, strings or RegExps', () => {
    const table: IntentTable = {
      ...DEFAULT_INTENT_TABLE,
      rules: [{ intent: 'translate', weight: 3, patterns: ['translat*', /\binto (?:german|french|spanish)\b/gi] }, ...DEFAULT_INTENT_TABLE.rules],
    };
    const compiled = compileIntentTable(table);
    // A global RegExp keeps lastIndex between calls; compiling drops the flag so every request gets the same answer.
    for (let i = 0; i < 3; i += 1) expect(taskFeatures(ask('Put this into German: hello'), compiled).intent).toBe('translate');
    expect(taskFeatures(ask('Translate: good morning'), compiled).intent).toBe('translate');
    expect(taskFeatures(ask('Translate: good morning')).intent).toBe('chat');
  });

  it('breaks ties by row order', () => {
    const table: IntentTable = {
      ...DEFAULT_INTENT_TABLE,
      rules: [
        { intent: 'first', weight: 2, patterns: ['alpha'] },
        { intent: 'second', weight: 2, patterns: ['beta'] },
      ],
    };
    expect(taskFeatures(ask('beta alpha'), compileIntentTable(table)).intent).toBe('first');
  });

  it('refuses a weight that is not a number at compile time', () => {
    expect(() => compileIntentTable({ ...DEFAULT_INTENT_TABLE, rules: [{ intent: 'x', weight: Number.NaN, patterns: ['x'] }] })).toThrow(/weight/);
  });
});
