// What a request asks the model to do: intent from a keyword table that is data, code presence, turns. Pure and cheap.
import type { ChatMessage, ChatRequest } from './request.js';

/** The intents the default table knows; hosts may add their own names. */
export type BuiltinIntent = 'classify' | 'extract' | 'summarise' | 'draft' | 'analyse' | 'code' | 'legal' | 'chat';
/** An intent name: a built-in one or any name a host's table uses. `chat` means nothing matched. */
export type Intent = BuiltinIntent | (string & {});

/**
 * One row of the intent table: every pattern that matches adds `weight` to `intent`'s score.
 * A string pattern is a case-insensitive phrase matched on word boundaries; a trailing `*` on a
 * word matches any continuation (`summar*` → summary, summarise, summarize). A RegExp is used as is.
 */
export interface IntentRule {
  intent: Intent;
  /** Added per matching pattern. Default 1. */
  weight?: number;
  patterns: readonly (string | RegExp)[];
}

/** How code in the text votes for an intent. */
export interface CodeSignal {
  /** The intent code votes for. Default `code`. */
  intent: Intent;
  /** Added when the text holds at least one fenced block. Default 2. */
  fencedWeight: number;
  /** Share of the scanned text (0–1) that looks like code at or above which `shareWeight` is added. Default 0.4. */
  shareAtLeast: number;
  shareWeight: number;
}

/** The whole intent table: data a host can replace or extend, compiled once by `compileIntentTable`. */
export interface IntentTable {
  /** Rows; on a tie the intent whose first row comes first wins, so high-stakes intents are listed first. */
  rules: readonly IntentRule[];
  /** A match in the system prompt counts this many times a match in the last user turn; the system prompt states the task. Default 2. */
  systemWeight: number;
  /** Below this best score the intent is `chat`: one stray word is not a task. Default 2. */
  minScore: number;
  code: CodeSignal;
  /**
   * Characters read from the head and from the tail of the system prompt and of the last user turn.
   * Instructions sit before or after a pasted document, so a long middle is skipped and the cost stays flat. Default 3,000.
   */
  scanChars: number;
}

/** The task-level features of one request. */
export interface TaskFeatures {
  /** The winning intent, or `chat` when nothing scored `minScore`. */
  intent: Intent;
  /** The winning score (0 for `chat`). */
  score: number;
  /** User messages in the conversation. */
  turns: number;
  /** Fenced code blocks in the scanned text. */
  codeBlocks: number;
  /** Share (0–1) of the scanned characters that sit in fenced blocks or on code-like lines. */
  codeShare: number;
  /** Whether the scanned text holds any code. */
  hasCode: boolean;
}

/**
 * The default table, written from the task complexity guide: classification, extraction, short
 * summarisation, support drafting, long-document analysis, code review/generation, legal/compliance drafting.
 */
export const DEFAULT_INTENT_TABLE: IntentTable = {
  systemWeight: 2,
  minScore: 2,
  scanChars: 3_000,
  code: { intent: 'code', fencedWeight: 2, shareAtLeast: 0.4, shareWeight: 2 },
  rules: [
    { intent: 'legal', weight: 3, patterns: ['compliance', 'gdpr', 'hipaa', 'ccpa', 'data processing agreement', 'legal counsel', 'in-house counsel', 'contract drafting'] },
    {
      intent: 'legal',
      weight: 2,
      patterns: [
        'legal*', 'lawyer*', 'attorney*', 'counsel', 'compliant', 'non-compliant', 'contract*', 'clause*', 'regulat*', 'terms of service',
        'privacy policy', 'privacy notice', 'nda', 'non-disclosure', 'indemnif*', 'liabilit*', 'jurisdiction*', 'soc 2', 'pci dss',
        'sox', 'statut*', 'governing law', 'msa', 'master services agreement', 'dpa', 'aml', 'kyc', 'export control*',
      ],
    },
    { intent: 'code', weight: 3, patterns: ['code review', 'refactor*', 'pull request', 'unit test*', 'senior software engineer', 'senior engineer',
      /\breview (?:this|my|the following|the attached) (?:code|diff|patch|function|class|module|pr|snippet|migration|query)\b/i,
      /\b(?:write|generate|implement|create) (?:a|an|the|me a) (?:\w+ )?(?:function|method|script|class|program|query|sql query|regex|regular expression|migration|endpoint|component|hook|test suite|cli|parser|dockerfile|makefile)\b/i] },
    {
      intent: 'code',
      weight: 2,
      patterns: ['debug*', 'stack trace', 'stacktrace', 'traceback', 'implement*', 'diff', 'compile error', 'segfault', 'race condition',
        'memory leak', 'off-by-one', 'type error', 'linter', 'null pointer'],
    },
    {
      intent: 'code',
      weight: 1,
      patterns: ['code', 'bug', 'function', 'typescript', 'javascript', 'python', 'golang', 'rust', 'java', 'c++', 'sql', 'bash', 'regex', 'api', 'algorithm',
        'exception', 'programming', 'developer'],
    },
    { intent: 'analyse', weight: 3, patterns: ['financial analyst', 'due diligence', 'in-depth', 'deep dive', 'detailed report', 'annual report', '10-k', 'root cause'] },
    {
      intent: 'analyse',
      weight: 2,
      patterns: ['analy*', 'synthesi*', 'assess*', 'evaluate', 'implications', 'insights', 'research', 'thorough*', 'comprehensive', 'investigate', 'across the'],
    },
    { intent: 'analyse', weight: 1, patterns: ['risk*', 'trends', 'compare', 'comparison', 'strategic', 'report', 'findings', 'whitepaper', 'transcript'] },
    { intent: 'summarise', weight: 3, patterns: ['summar*', 'tl;dr', 'tldr'] },
    {
      intent: 'summarise',
      weight: 2,
      patterns: ['condense', 'recap', 'key points', 'key takeaways', 'gist', 'main points', 'brief overview', 'in a nutshell', 'shorten',
        /\b(?:in|into|as) (?:\d+|one|two|three|four|five|a few|a couple of) (?:short )?(?:sentences?|bullet(?: point)?s?|lines?|words)\b/i],
    },
    { intent: 'draft', weight: 3, patterns: ['customer support', 'support agent', 'customer service', 'support team', 'help desk', 'helpdesk', 'support ticket'] },
    {
      intent: 'draft',
      weight: 2,
      patterns: [
        /\b(?:draft|write|compose|prepare) (?:a |an )?(?:polite |friendly |short |brief |warm |professional )?(?:reply|response|answer|email|message)\b/i,
        /\b(?:reply|respond) to (?:the|this|a) (?:customer|user|ticket|email|complaint|review|message)\b/i,
        'refund', 'apologi*', 'empath*', 'complaint', 'our customer*',
      ],
    },
    { intent: 'draft', weight: 1, patterns: ['ticket', 'friendly', 'tone', 'customer', 'my order', 'your order', 'order number', 'shipping', 'subscription'] },
    { intent: 'extract', weight: 3, patterns: ['extract*', 'named entit*', 'entity extraction', 'pull out'] },
    {
      intent: 'extract',
      weight: 2,
      patterns: ['entities', 'structured data', 'key-value', 'fields', 'parse out',
        /\b(?:list|find|identify|return) (?:all|every|each) (?:the )?(?:dates?|names?|people|emails?|email addresses|phone numbers|amounts?|prices?|addresses|companies|organi[sz]ations|locations|skus?|products?|invoice numbers?)\b/i],
    },
    { intent: 'extract', weight: 1, patterns: ['json', 'schema', 'invoice', 'receipt', 'csv'] },
    { intent: 'classify', weight: 3, patterns: ['classif*', 'sentiment', 'categori*', 'spam'] },
    {
      intent: 'classify',
      weight: 2,
      patterns: ['one word', 'single word', 'one label', 'which category', 'yes or no', 'true or false', 'toxic*', 'triage', 'detect the language',
        'label', 'labels', 'route it to', 'priority level', 'exactly one', 'one of the following',
        /\bpositive,? (?:or )?negative\b/i,
        /\b(?:reply|respond|answer|output) (?:with )?only (?:the |one |a )?(?:label|category|class|word|number|letter)\b/i],
    },
    { intent: 'classify', weight: 1, patterns: ['intent', 'urgent', 'tag', 'flag'] },
  ],
};

/** An intent table compiled once: every pattern is a RegExp built at start-up, never per request. */
export interface CompiledIntentTable {
  readonly table: IntentTable;
  readonly rows: readonly { intent: Intent; weight: number; patterns: readonly RegExp[] }[];
  /** Intents in tie-break order (first row first). */
  readonly order: readonly Intent[];
}

const escapeRe = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** A phrase pattern to a case-insensitive RegExp with word boundaries that also work beside `;`, `+`, `-`. */
function phrase(p: string): RegExp {
  const body = escapeRe(p.trim())
    .replace(/\*/g, '\\w*')
    .replace(/\s+/g, '\\s+');
  return new RegExp(`(?<![\\w])${body}(?![\\w])`, 'i');
}

/** Compiles a table once; a RegExp's `g`/`y` flags are dropped so `test` keeps no state between requests. */
export function compileIntentTable(table: IntentTable = DEFAULT_INTENT_TABLE): CompiledIntentTable {
  const order: Intent[] = [];
  const rows = table.rules.map((r) => {
    if (!order.includes(r.intent)) order.push(r.intent);
    const weight = r.weight ?? 1;
    if (!Number.isFinite(weight)) throw new Error(`intent table: rule for "${r.intent}" has a weight that is not a number`);
    return {
      intent: r.intent,
      weight,
      patterns: r.patterns.map((p) => (typeof p === 'string' ? phrase(p) : new RegExp(p.source, p.flags.replace(/[gy]/g, '')))),
    };
  });
  if (!order.includes(table.code.intent)) order.push(table.code.intent);
  return Object.freeze({ table, rows, order });
}

/** The default table, compiled once at module load. */
export const DEFAULT_COMPILED_INTENTS: CompiledIntentTable = compileIntentTable(DEFAULT_INTENT_TABLE);

function textOf(m: ChatMessage): string {
  const c = m.content;
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return '';
  let out = '';
  for (const p of c) if (p.type === 'text') out += (out === '' ? '' : '\n') + (p as { text: string }).text;
  return out;
}

/** The head and tail of a text, so a pasted document's middle costs nothing to scan. */
function window(text: string, chars: number): string {
  return text.length <= 2 * chars ? text : `${text.slice(0, chars)}\n${text.slice(-chars)}`;
}

// Lines that look like source: keywords at the start (lower-case, so prose starting "If" or "For" does not count),
// SQL verbs, statements ending in ; { } or ), arrows, comments, assignments, tags.
const CODE_LINE =
  /^\s*(?:(?:def|class|import|from|function|const|let|var|return|if|elif|else|for|while|switch|case|try|catch|except|public|private|protected|static|async|await|export|package|func|fn|impl|struct|interface|enum|using|namespace|println|console\.log)\b|#include|@\w+|SELECT\b|INSERT\s+INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|CREATE\s+(?:TABLE|INDEX)\b|\/\/|\/\*|\*\/|<\/?[a-zA-Z][\w-]*(?:\s[^>]*)?>\s*$)|[;{}]\s*$|\w\([^()]*\)\s*:?\s*$|=>|^\s*[\w.[\]]+\s*[-+*/]?=\s*[\w"'[({]/;
const FENCE = /^\s*(?:```|~~~)/;

/** Fenced blocks and the share of characters that look like code, over already-windowed text. */
function measureCode(text: string): { blocks: number; codeChars: number; chars: number } {
  let blocks = 0;
  let codeChars = 0;
  let chars = 0;
  let inFence = false;
  for (const line of text.split('\n')) {
    const len = line.trim().length;
    if (FENCE.test(line)) {
      if (!inFence) blocks += 1;
      inFence = !inFence;
      continue;
    }
    if (len === 0) continue;
    chars += len;
    if (inFence || CODE_LINE.test(line)) codeChars += len;
  }
  return { blocks, codeChars, chars };
}

/**
 * Measures what a request asks for: the intent from the system prompt and the last user turn,
 * code presence and share, and the number of user turns. Pure; reads at most a few kilobytes per text.
 */
export function taskFeatures(req: ChatRequest, compiled: CompiledIntentTable = DEFAULT_COMPILED_INTENTS): TaskFeatures {
  const { table } = compiled;
  let system = '';
  let lastUser = '';
  let turns = 0;
  for (const m of req.messages) {
    if (m.role === 'system' || m.role === 'developer') system += (system === '' ? '' : '\n') + textOf(m);
    else if (m.role === 'user') {
      turns += 1;
      lastUser = textOf(m);
    }
  }
  const sys = window(system, table.scanChars);
  const user = window(lastUser, table.scanChars);

  const scores = new Map<Intent, number>();
  const add = (intent: Intent, n: number) => scores.set(intent, (scores.get(intent) ?? 0) + n);
  for (const row of compiled.rows) {
    for (const re of row.patterns) {
      if (sys !== '' && re.test(sys)) add(row.intent, row.weight * table.systemWeight);
      if (user !== '' && re.test(user)) add(row.intent, row.weight);
    }
  }

  const a = measureCode(sys);
  const b = measureCode(user);
  const blocks = a.blocks + b.blocks;
  const chars = a.chars + b.chars;
  const codeShare = chars === 0 ? 0 : (a.codeChars + b.codeChars) / chars;
  if (blocks > 0) add(table.code.intent, table.code.fencedWeight);
  if (codeShare >= table.code.shareAtLeast) add(table.code.intent, table.code.shareWeight);

  let intent: Intent = 'chat';
  let score = 0;
  for (const candidate of compiled.order) {
    const s = scores.get(candidate) ?? 0;
    if (s > score) {
      intent = candidate;
      score = s;
    }
  }
  if (score < table.minScore) {
    intent = 'chat';
    score = 0;
  }
  return { intent, score, turns, codeBlocks: blocks, codeShare, hasCode: blocks > 0 || a.codeChars + b.codeChars > 0 };
}
