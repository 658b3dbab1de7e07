import type { JobPosting, SavedSearch } from './saved-search';

// Tokens are cut at every character that is not a letter, a digit, '+', '#', '.' or '-'.
// Combining marks count with the letter they sit on, so a decomposed accent does not cut a word.
const SEPARATORS = /[^\p{L}\p{M}\p{N}+#.-]+/u;
const EDGE_PUNCTUATION = /^[.-]+|[.-]+$/g;

/**
 * Unicode case folding for comparison: lower case, then the full foldings that
 * lower-casing leaves out (final sigma ς→σ, sharp s ß→ss, which also covers ẞ).
 * Dotless ı stays distinct from i, as folding keeps it.
 */
export function foldCase(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/ς/g, 'σ').replace(/ß/g, 'ss');
}

/** The contract's words: "C#", "C++", "Node.js" and "front-end" are words; "platform." is "platform". */
export function tokenize(text: string): string[] {
  const words: string[] = [];
  // Cut first, fold each word after: folding can grow a letter into several code points.
  for (const raw of text.normalize('NFC').split(SEPARATORS)) {
    const word = raw.replace(EDGE_PUNCTUATION, '');
    if (word !== '') words.push(foldCase(word));
  }
  return words;
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

/** The words of a saved search's keywords, each keyword a word or a phrase. */
export function keywordPhrases(keywords: readonly string[]): string[][] {
  return keywords.map(tokenize);
}

function containsPhrase(words: readonly string[], phrase: readonly string[]): boolean {
  if (phrase.length === 1) return words.includes(phrase[0]);
  outer: for (let start = 0; start + phrase.length <= words.length; start++) {
    for (let i = 0; i < phrase.length; i++) if (words[start + i] !== phrase[i]) continue outer;
    return true;
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
    if (phrase.length > 1 && !words.fields.some((field) => containsPhrase(field, phrase))) return false;
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
