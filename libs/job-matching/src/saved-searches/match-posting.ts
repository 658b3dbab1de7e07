import type { JobPosting, SavedSearch } from '@app/notifications';

// A word is a run of letters, combining marks, digits, '+', '#', '.' and '-'; any other character cuts.
// Combining marks count with the letter they sit on, so a decomposed accent does not cut a word.
// One class repeated, with nothing after it to backtrack into: the search reads each character once.
const WORD_RUNS = /[\p{L}\p{M}\p{N}+#.-]+/gu;
const DOT = 0x2e;
const DASH = 0x2d;

/**
 * The longest word kept, in UTF-16 code units after folding. A keyword is at most 100 characters
 * as validator counts them (a surrogate pair, or a character and its variation selector, is one),
 * and one of those folds to at most 4 code units (U+FB2C is 3 after NFC, then U+FE0F), so no
 * keyword has a longer word. A longer word in a posting can never match: it is dropped, which
 * saves folding it and bounds the index keys a posting looks up.
 */
export const MAX_WORD_LENGTH = 400;

/** Counts the characters the tokenizer visits. */
interface TokenizeMeter {
  steps: number;
}

/**
 * Unicode case folding for comparison: lower case, then the full foldings that
 * lower-casing leaves out (final sigma ς→σ, sharp s ß→ss, which also covers ẞ).
 * Dotless ı stays distinct from i, as folding keeps it.
 */
export function foldCase(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/ς/g, 'σ').replace(/ß/g, 'ss');
}

/**
 * The folded words of a text, in linear time: the runs are found in one pass, and each loses its
 * leading and trailing '.' and '-' by two indices moving towards each other. (A regex such as
 * `[.-]+$` is retried from every dot of a run: quadratic, a second for 50,000 dots, issue 13.)
 * Cut first, fold each word after: folding can grow a letter into several code points.
 */
function cutWords(text: string, maxLength: number, meter?: TokenizeMeter): string[] {
  const normalized = text.normalize('NFC');
  const words: string[] = [];
  let trimmed = 0;
  for (const run of normalized.matchAll(WORD_RUNS)) {
    let start = run.index;
    let end = start + run[0].length;
    while (start < end && isEdgePunctuation(normalized.charCodeAt(start))) {
      start++;
      trimmed++;
    }
    while (end > start && isEdgePunctuation(normalized.charCodeAt(end - 1))) {
      end--;
      trimmed++;
    }
    // Lower-casing never shortens a string (checked for every code point), so a word already too long is dropped unfolded.
    if (start === end || end - start > maxLength) continue;
    const word = foldCase(normalized.slice(start, end));
    if (word.length <= maxLength) words.push(word);
  }
  // The run search reads every character once; trimming reads an edge character once more.
  if (meter) meter.steps += normalized.length + trimmed;
  return words;
}

function isEdgePunctuation(code: number): boolean {
  return code === DOT || code === DASH;
}

/**
 * The contract's words: "C#", "C++", "Node.js" and "front-end" are words; "platform." is "platform".
 * A word longer than MAX_WORD_LENGTH is left out: no keyword has one.
 */
export function tokenize(text: string): string[] {
  return cutWords(text, MAX_WORD_LENGTH);
}

/** The characters `tokenize(text)` visits: the unit specs pin this linear in the text's length (issue 13). */
export function tokenizeSteps(text: string): number {
  const meter: TokenizeMeter = { steps: 0 };
  cutWords(text, MAX_WORD_LENGTH, meter);
  return meter.steps;
}

/** A posting cut into words once: per field (phrases never span fields or tags), and all words as a set. */
export interface PostingWords {
  readonly fields: readonly (readonly string[])[];
  readonly all: ReadonlySet<string>;
}

export function postingWords(posting: JobPosting): PostingWords {
  const fields = [posting.title, posting.description ?? '', ...(posting.tags ?? [])].map(tokenize);
  return { fields, all: new Set(fields.flat()) };
}

/**
 * The words of a saved search's keywords, each keyword a word or a phrase. No word is left out for
 * its length: a phrase that lost one would match more than was asked (validation keeps keywords
 * short, so none is that long anyway; one that were would simply never match).
 */
export function keywordPhrases(keywords: readonly string[]): string[][] {
  return keywords.map((keyword) => cutWords(keyword, Infinity));
}

/**
 * Whether the phrase occurs as adjacent words of one field, by Knuth-Morris-Pratt: each word of a
 * field is compared a bounded number of times. Restarting at every position compared up to the
 * phrase's length at each one (49 times 25,000 for "a a … a b" in a description of "a a a …").
 */
function phraseOccurs(fields: readonly (readonly string[])[], phrase: readonly string[]): boolean {
  // fallback[i]: the length of the longest proper prefix of phrase[0..i] that also ends it.
  const fallback = new Array<number>(phrase.length).fill(0);
  for (let i = 1, k = 0; i < phrase.length; i++) {
    while (k > 0 && phrase[i] !== phrase[k]) k = fallback[k - 1];
    if (phrase[i] === phrase[k]) k++;
    fallback[i] = k;
  }
  for (const words of fields) {
    for (let i = 0, k = 0; i < words.length; i++) {
      while (k > 0 && words[i] !== phrase[k]) k = fallback[k - 1];
      if (words[i] === phrase[k]) k++;
      if (k === phrase.length) return true;
    }
  }
  return false;
}

/**
 * The contract's rule: every keyword occurs (a phrase as adjacent words in
 * order) in the title, description or a tag; location equal ignoring case;
 * `remote: true` finds only remote postings; `minSalary` at most the salary.
 */
export function matchesPosting(search: Pick<SavedSearch, 'keywords' | 'location' | 'remote' | 'minSalary'>, posting: JobPosting, words: PostingWords): boolean {
  if (search.remote === true && posting.remote !== true) return false;
  // `!= null`: a null that reached storage (older gateways let it in) means "not set", never a crash of every posting.
  if (search.minSalary != null && (posting.salary === undefined || posting.salary < search.minSalary)) return false;
  if (search.location != null && (posting.location === undefined || foldCase(search.location.trim()) !== foldCase(posting.location.trim()))) {
    return false;
  }
  for (const phrase of keywordPhrases(search.keywords)) {
    if (phrase.length === 0) return false;
    if (!phrase.every((word) => words.all.has(word))) return false;
    if (phrase.length > 1 && !phraseOccurs(words.fields, phrase)) return false;
  }
  return true;
}

/**
 * The one word a saved search is indexed under: a posting can only match if it
 * contains every word of every keyword, so any one of them is a necessary
 * condition. The longest is taken as the likely rarest, to keep candidate sets small.
 */
export function anchorWord(keywords: readonly string[]): string | null {
  let anchor: string | null = null;
  for (const phrase of keywordPhrases(keywords)) for (const word of phrase) if (anchor === null || word.length > anchor.length) anchor = word;
  return anchor;
}
