// Contract: /work/shared/contract.md, "Job postings and matching (BullMQ)" — words, keywords/phrases, and the match rule.
import { anchorWord, foldCase, keywordPhrases, matchesPosting, MAX_WORD_LENGTH, postingWords, tokenize, tokenizeSteps } from './match-posting';
import type { JobPosting, SavedSearch } from '@app/notifications';

type Search = Pick<SavedSearch, 'keywords' | 'location' | 'remote' | 'minSalary'>;

function posting(overrides: Partial<JobPosting> = {}): JobPosting {
  return { id: 'p1', title: 'Engineer', company: 'Acme', ...overrides };
}

function matches(search: Partial<Search>, p: Partial<JobPosting>): boolean {
  const job = posting(p);
  return matchesPosting({ keywords: [], ...search }, job, postingWords(job));
}

describe('tokenize', () => {
  it('keeps C#, C++, Node.js and front-end as words and strips trailing dots', () => {
    expect(tokenize('C# C++ Node.js front-end platform.')).toEqual(['c#', 'c++', 'node.js', 'front-end', 'platform']);
  });

  it('cuts at commas, slashes, parentheses, tabs, newlines, emoji and other punctuation', () => {
    expect(tokenize('React,Vue/Angular (TypeScript)\tGo\nRust🚀Kotlin;Scala:Elm!Dart?Lua"Zig\'Nim_Odin')).toEqual([
      'react', 'vue', 'angular', 'typescript', 'go', 'rust', 'kotlin', 'scala', 'elm', 'dart', 'lua', 'zig', 'nim', 'odin',
    ]);
    expect(tokenize('  \r\n\t ')).toEqual([]);
    expect(tokenize('')).toEqual([]);
  });

  it('drops tokens made only of dots and dashes, such as "..." and "--"', () => {
    expect(tokenize('...')).toEqual([]);
    expect(tokenize('--')).toEqual([]);
    expect(tokenize('Java -- Kotlin ... Scala .-.')).toEqual(['java', 'kotlin', 'scala']);
  });

  it('strips leading and trailing dots and dashes but keeps inner ones', () => {
    expect(tokenize('v1.2.3')).toEqual(['v1.2.3']);
    expect(tokenize('.NET')).toEqual(['net']);
    expect(tokenize('-front-end-')).toEqual(['front-end']);
    expect(tokenize('..node.js..')).toEqual(['node.js']);
    expect(tokenize('--c++--')).toEqual(['c++']);
    expect(tokenize('#hashtag+')).toEqual(['#hashtag+']);
  });

  it('splits c#/c++ into its two words', () => {
    expect(tokenize('c#/c++')).toEqual(['c#', 'c++']);
  });

  it('is case-insensitive for mixed case', () => {
    expect(tokenize('TypeScript TYPESCRIPT typescript')).toEqual(['typescript', 'typescript', 'typescript']);
    expect(tokenize('NoDe.Js')).toEqual(['node.js']);
  });

  it('keeps Unicode letters: Zürich is one word', () => {
    expect(tokenize('Zürich, ZÜRICH')).toEqual(['zürich', 'zürich']);
  });

  it('folds German ß: Straße and STRASSE are the same word', () => {
    expect(tokenize('Straße')).toEqual(['strasse']);
    expect(tokenize('STRASSE')).toEqual(['strasse']);
  });

  it('folds the capital sharp s ẞ like ß (STRAẞE is strasse)', () => {
    // Unicode case folding maps U+1E9E to "ss", like U+00DF.
    expect(tokenize('STRAẞE')).toEqual(['strasse']);
    expect(tokenize('STRAẞE')).toEqual(tokenize('Straße'));
  });

  it('compares Greek words with final sigma equal across case (ΟΔΟΣ / οδος / ΟΔΟς / οδοΣ)', () => {
    const expected = tokenize('ΟΔΟΣ');
    expect(expected).toHaveLength(1);
    expect(tokenize('οδος')).toEqual(expected);
    expect(tokenize('ΟΔΟς')).toEqual(expected);
    expect(tokenize('οδοΣ')).toEqual(expected);
    expect(tokenize('οδοσ')).toEqual(expected);
  });

  it('folds every sigma to σ, wherever it stands in the word', () => {
    // Full Unicode case folding: Σ → σ and ς → σ, independent of position.
    expect(tokenize('ΟΔΟΣ')).toEqual(['οδοσ']);
    expect(tokenize('οδος')).toEqual(['οδοσ']);
    // Mixed-script word (Latin "o" in the middle): still one word, folded per character.
    expect(tokenize('οδoς')).toEqual(['οδoσ']);
    expect(tokenize('οδoς')).not.toEqual(tokenize('οδος'));
  });

  it('keeps a word folded the same whatever separator follows it', () => {
    // A word's fold must not depend on the neighbouring token.
    expect(tokenize('ΜΗΧΑΝΙΚΟΣ:Backend')).toEqual([...tokenize('ΜΗΧΑΝΙΚΟΣ'), 'backend']);
    expect(tokenize('ΜΗΧΑΝΙΚΟΣ Backend')).toEqual([...tokenize('ΜΗΧΑΝΙΚΟΣ'), 'backend']);
  });

  it('keeps a word whose letters fold to several code points in one piece (İstanbul)', () => {
    // "İ" (U+0130) is a letter: the text is cut at non-letters of the text, not of its folded form.
    expect(tokenize('İstanbul')).toHaveLength(1);
    expect(tokenize('Work in İstanbul')).toHaveLength(3);
  });

  it('keeps the Turkish dotless ı distinct from i (Unicode case folding does not map ı)', () => {
    expect(tokenize('kırmızı')).toEqual(['kırmızı']);
    expect(tokenize('kırmızı')).not.toEqual(tokenize('kirmizi'));
  });

  it('keeps Japanese/CJK letters together as one word', () => {
    expect(tokenize('東京都のエンジニア募集')).toEqual(['東京都のエンジニア募集']);
    expect(tokenize('東京、大阪 ソフトウェア')).toEqual(['東京', '大阪', 'ソフトウェア']);
  });

  it('counts Arabic-Indic digits as digits', () => {
    expect(tokenize('٣٤٥ ١٢')).toEqual(['٣٤٥', '١٢']);
    expect(tokenize('راتب٥٠٠٠')).toEqual(['راتب٥٠٠٠']);
    expect(tokenize('٣.٥')).toEqual(['٣.٥']);
  });

  it('normalizes composed and decomposed characters to the same word', () => {
    expect(tokenize('Caf\u0065\u0301')).toEqual(tokenize('Caf\u00e9'));
    expect(tokenize('Caf\u0065\u0301')).toEqual(['caf\u00e9']);
  });
});

describe('tokenize: linear work on adversarial text (issue 13)', () => {
  // A backtracking trim (`[.-]+$`) took about n²/2 steps on "a" + n dots + "a": a second of the
  // gateway's event loop for 50,000 dots. The meter counts the characters the tokenizer visits, so
  // linearity is checked without a clock: every character is read once, and trimming moves two
  // indices towards each other inside a word.
  const expectLinear = (text: string): void => {
    const steps = tokenizeSteps(text);
    expect(steps).toBeGreaterThanOrEqual(text.length); // the meter is wired: no pass by counting nothing
    expect(steps).toBeLessThanOrEqual(2 * text.length);
  };

  const adversarial: [string, (n: number) => string][] = [
    ['a, n dots, a', (n) => `a${'.'.repeat(n)}a`],
    ['a, n dashes, a', (n) => `a${'-'.repeat(n)}a`],
    ['a, .-.-.-…, a', (n) => `a${'.-'.repeat(n / 2)}a`],
    ['n dots, a word, n dashes', (n) => `${'.'.repeat(n / 2)}word${'-'.repeat(n / 2)}`],
    ['dots and dashes between letters', (n) => 'a.-.b-.-c..--'.repeat(n / 13)],
    ['one dot-run per word', (n) => `x${'.'.repeat(998)}y `.repeat(n / 1_001)],
    ['one long word', (n) => 'a'.repeat(n)],
    ['only separators', (n) => ', '.repeat(n / 2)],
  ];

  it.each(adversarial)('%s: at most two steps a character, and no more a character at 4n than at n', (_name, make) => {
    const small = make(12_500);
    expectLinear(small);
    const large = make(50_000);
    expectLinear(large);
    expect(tokenizeSteps(large) / large.length).toBeLessThanOrEqual(tokenizeSteps(small) / small.length + 0.01);
  });

  it('stays linear on 1 MB of a single character class', () => {
    for (const char of ['.', '-', 'a', '7', '#', '+', ' ', 'é', '東', '😀']) expectLinear(char.repeat(1_000_000 / char.length));
    expectLinear(`a${'.'.repeat(1_000_000)}a`);
  });

  it('strips long runs of dots and dashes, however long', () => {
    expect(tokenize(`${'.'.repeat(50_000)}platform${'.'.repeat(50_000)}`)).toEqual(['platform']);
    expect(tokenize(`${'-.'.repeat(25_000)}front-end${'.-'.repeat(25_000)} C#`)).toEqual(['front-end', 'c#']);
    expect(tokenize('.'.repeat(50_000))).toEqual([]);
    expect(tokenize(`Node.js${'-'.repeat(50_000)}`)).toEqual(['node.js']);
  });

  it(`drops a word longer than ${MAX_WORD_LENGTH} code units after folding, which no keyword can match`, () => {
    expect(tokenize(`a${'.'.repeat(50_000)}a rust`)).toEqual(['rust']);
    expect(tokenize(`${'x'.repeat(1_000_000)} go`)).toEqual(['go']);
    expect(tokenize('a'.repeat(MAX_WORD_LENGTH))).toEqual(['a'.repeat(MAX_WORD_LENGTH)]);
    expect(tokenize('a'.repeat(MAX_WORD_LENGTH + 1))).toEqual([]);
    // Measured on the folded word: ß folds to ss, so half as many ß reach the limit.
    expect(tokenize('ß'.repeat(MAX_WORD_LENGTH / 2))).toEqual(['s'.repeat(MAX_WORD_LENGTH)]);
    expect(tokenize('ß'.repeat(MAX_WORD_LENGTH / 2 + 1))).toEqual([]);
  });

  it('never drops a word of the longest keyword (100 characters), whatever its characters', () => {
    // The characters that fold to the most code units, each with a variation selector, which
    // validator's isLength does not count: a 100-character keyword is at most MAX_WORD_LENGTH units.
    for (const char of ['a', 'ß', 'İ', '𝐀', '\uFB2C', 'ß\uFE0F', '𝐀\uFE0F', '\uFB2C\uFE0F']) {
      const keyword = char.repeat(100);
      const [word] = tokenize(keyword);
      expect(word.length).toBeLessThanOrEqual(MAX_WORD_LENGTH);
      expect(matches({ keywords: [keyword] }, { description: `Wanted: ${keyword.toUpperCase()}.` })).toBe(true);
    }
  });

  it('keeps an over-long word in a keyword, so a phrase never loses one of its words', () => {
    const long = 'x'.repeat(MAX_WORD_LENGTH + 1);
    expect(keywordPhrases([`${long} rust`])).toEqual([[long, 'rust']]);
    expect(matches({ keywords: [`${long} rust`] }, { title: `${long} rust` })).toBe(false);
    expect(anchorWord([long])).toBe(long);
  });
});

describe('foldCase', () => {
  it('maps ß to ss', () => {
    expect(foldCase('ß')).toBe('ss');
    expect(foldCase('Straße')).toBe(foldCase('STRASSE'));
    expect(foldCase('Straße')).toBe('strasse');
  });

  it('maps Σ and ς to σ', () => {
    expect(foldCase('Σ')).toBe('σ');
    expect(foldCase('ς')).toBe('σ');
    expect(foldCase('σ')).toBe('σ');
  });

  it('maps a word-final sigma to σ as well', () => {
    expect(foldCase('ΟΔΟΣ')).toBe('οδοσ');
    expect(foldCase('οδος')).toBe('οδοσ');
  });

  it('applies NFC: composed and decomposed é compare equal', () => {
    expect(foldCase('\u0065\u0301')).toBe(foldCase('\u00e9'));
    expect(foldCase('\u0045\u0301')).toBe('\u00e9');
    expect(foldCase('ZU\u0308RICH')).toBe('zürich');
  });

  it('lower-cases ASCII and leaves digits and symbols', () => {
    expect(foldCase('Node.JS C# C++ 42')).toBe('node.js c# c++ 42');
  });
});

describe('matchesPosting', () => {
  describe('keywords', () => {
    it('finds a keyword in the title, the description or a tag', () => {
      expect(matches({ keywords: ['kotlin'] }, { title: 'Kotlin developer' })).toBe(true);
      expect(matches({ keywords: ['kotlin'] }, { description: 'We use Kotlin daily' })).toBe(true);
      expect(matches({ keywords: ['kotlin'] }, { tags: ['android', 'kotlin'] })).toBe(true);
      expect(matches({ keywords: ['kotlin'] }, { title: 'Java developer', description: 'JVM', tags: ['android'] })).toBe(false);
    });

    it('does not look in company or location', () => {
      expect(matches({ keywords: ['acme'] }, { company: 'Acme' })).toBe(false);
      expect(matches({ keywords: ['berlin'] }, { location: 'Berlin' })).toBe(false);
    });

    it('matches whole words only', () => {
      expect(matches({ keywords: ['java'] }, { title: 'JavaScript engineer' })).toBe(false);
      expect(matches({ keywords: ['node'] }, { title: 'Node.js engineer' })).toBe(false);
      expect(matches({ keywords: ['node.js'] }, { title: 'Node.js engineer' })).toBe(true);
      expect(matches({ keywords: ['script'] }, { title: 'JavaScript engineer' })).toBe(false);
      expect(matches({ keywords: ['c'] }, { title: 'C++ and C# engineer' })).toBe(false);
      expect(matches({ keywords: ['c++'] }, { title: 'C++ and C# engineer' })).toBe(true);
      expect(matches({ keywords: ['c#'] }, { title: 'C++ and C# engineer' })).toBe(true);
    });

    it('matches a word followed by punctuation (React,)', () => {
      expect(matches({ keywords: ['react'] }, { description: 'We use React, Redux and Jest.' })).toBe(true);
      expect(matches({ keywords: ['jest'] }, { description: 'We use React, Redux and Jest.' })).toBe(true);
      expect(matches({ keywords: ['.NET'] }, { title: 'Senior .NET developer' })).toBe(true);
    });

    it('is case-insensitive on the keyword and the posting', () => {
      expect(matches({ keywords: ['TYPESCRIPT'] }, { title: 'typescript dev' })).toBe(true);
      expect(matches({ keywords: ['typescript'] }, { tags: ['TypeScript'] })).toBe(true);
      expect(matches({ keywords: ['Straße'] }, { title: 'STRASSE' })).toBe(true);
      expect(matches({ keywords: ['ΟΔΟΣ'] }, { title: 'οδος' })).toBe(true);
    });

    it('requires every keyword', () => {
      const p = { title: 'Backend engineer', description: 'Go and Postgres', tags: ['kubernetes'] };
      expect(matches({ keywords: ['go', 'postgres', 'kubernetes'] }, p)).toBe(true);
      expect(matches({ keywords: ['go', 'postgres', 'rust'] }, p)).toBe(false);
      expect(matches({ keywords: ['rust', 'go'] }, p)).toBe(false);
    });

    it('matches a search with no keywords on its other criteria alone', () => {
      expect(matches({ keywords: [] }, { title: 'Anything' })).toBe(true);
    });

    it('finds a Greek word whatever punctuation follows it in the posting', () => {
      // Same word, folded case-insensitively; ':' is just a separator.
      expect(matches({ keywords: ['μηχανικος'] }, { title: 'ΜΗΧΑΝΙΚΟΣ Backend' })).toBe(true);
      expect(matches({ keywords: ['μηχανικος'] }, { title: 'ΜΗΧΑΝΙΚΟΣ:Backend' })).toBe(true);
    });

    it('does not match part of a word that contains İ', () => {
      expect(matches({ keywords: ['stanbul'] }, { title: 'Engineer in İstanbul' })).toBe(false);
    });
  });

  describe('phrases', () => {
    const p = {
      title: 'Machine learning engineer',
      description: 'Deep learning. Machine vision and learning systems.',
      tags: ['data science', 'natural language processing'],
    };

    it('matches adjacent words in order', () => {
      expect(matches({ keywords: ['machine learning'] }, p)).toBe(true);
      expect(matches({ keywords: ['MACHINE   Learning'] }, p)).toBe(true);
      expect(matches({ keywords: ['deep learning'] }, p)).toBe(true);
      expect(matches({ keywords: ['learning machine'] }, { title: 'machine learning' })).toBe(false);
    });

    it('matches across punctuation between adjacent words', () => {
      expect(matches({ keywords: ['learning machine'] }, p)).toBe(true); // "Deep learning. Machine vision"
      expect(matches({ keywords: ['machine learning'] }, { description: 'machine, learning' })).toBe(true);
    });

    it('does not match reversed order', () => {
      expect(matches({ keywords: ['engineer learning'] }, p)).toBe(false);
      expect(matches({ keywords: ['learning machine'] }, { title: 'Machine learning engineer' })).toBe(false);
    });

    it('does not match with a word in between', () => {
      expect(matches({ keywords: ['machine learning'] }, { title: 'Machine vision and learning' })).toBe(false);
      expect(matches({ keywords: ['machine learning'] }, { title: 'Machine deep learning' })).toBe(false);
    });

    it('does not match across the title/description boundary', () => {
      expect(matches({ keywords: ['machine learning'] }, { title: 'Senior machine', description: 'learning systems' })).toBe(false);
      expect(matches({ keywords: ['engineer deep'] }, { title: 'Machine learning engineer', description: 'Deep learning.' })).toBe(false);
    });

    it('does not match across two different tags', () => {
      expect(matches({ keywords: ['machine learning'] }, { tags: ['machine', 'learning'] })).toBe(false);
      expect(matches({ keywords: ['science natural'] }, p)).toBe(false);
    });

    it('does not match across the description/tag boundary', () => {
      expect(matches({ keywords: ['machine learning'] }, { description: 'machine', tags: ['learning'] })).toBe(false);
    });

    it('matches a phrase inside one tag', () => {
      expect(matches({ keywords: ['language processing'] }, p)).toBe(true);
      expect(matches({ keywords: ['natural language processing'] }, p)).toBe(true);
      expect(matches({ keywords: ['data science'] }, p)).toBe(true);
    });

    it('requires every phrase and word together', () => {
      expect(matches({ keywords: ['machine learning', 'data science', 'systems'] }, p)).toBe(true);
      expect(matches({ keywords: ['machine learning', 'data engineering'] }, p)).toBe(false);
    });

    it('handles repeated words in a phrase', () => {
      expect(matches({ keywords: ['go go'] }, { title: 'go go gadget' })).toBe(true);
      expect(matches({ keywords: ['go go'] }, { title: 'go gadget go' })).toBe(false);
    });

    it('finds a phrase whose start repeats after a partial match (a a b in a a a b; a b a c in a b a b a c)', () => {
      expect(matches({ keywords: ['a a b'] }, { title: 'a a a b' })).toBe(true);
      expect(matches({ keywords: ['a b a c'] }, { title: 'a b a b a c' })).toBe(true);
      expect(matches({ keywords: ['a b a c'] }, { title: 'a b a b a b', tags: ['c'] })).toBe(false);
    });

    it('agrees with a word-by-word scan at every position (generated cases)', () => {
      let seed = 0x13;
      const random = (): number => {
        seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
        return seed / 4_294_967_296;
      };
      const words = (n: number): string[] => Array.from({ length: n }, () => (random() < 0.6 ? 'a' : random() < 0.7 ? 'b' : 'c'));
      const naive = (text: string[], phrase: string[]): boolean =>
        text.some((_, start) => start + phrase.length <= text.length && phrase.every((word, i) => text[start + i] === word));
      let found = 0;
      for (let i = 0; i < 2_000; i++) {
        const text = words(Math.floor(random() * 12));
        const phrase = words(2 + Math.floor(random() * 4));
        const expected = naive(text, phrase);
        if (expected) found++;
        expect(matches({ keywords: [phrase.join(' ')] }, { title: text.join(' ') })).toBe(expected);
      }
      expect(found).toBeGreaterThan(100);
    });

    it('finds or misses a 50-word phrase in 25,000 words that nearly match it everywhere (issue 13)', () => {
      // A scan from every position compared 49 words at each of the 25,000 positions (3 ms a search,
      // seconds for a posting with a thousand such candidates); the prefix table reads each word once.
      const phrase = `${'a '.repeat(49)}b`;
      expect(matches({ keywords: [phrase] }, { description: 'a '.repeat(25_000), tags: ['b'] })).toBe(false);
      expect(matches({ keywords: [phrase] }, { description: `${'a '.repeat(25_000)}b` })).toBe(true);
    });
  });

  describe('location', () => {
    it('matches case-insensitively and trimmed', () => {
      expect(matches({ location: 'berlin' }, { location: 'Berlin' })).toBe(true);
      expect(matches({ location: '  BERLIN ' }, { location: 'berlin' })).toBe(true);
      expect(matches({ location: 'Berlin' }, { location: ' Berlin\t' })).toBe(true);
      expect(matches({ location: 'zürich' }, { location: 'ZÜRICH' })).toBe(true);
      expect(matches({ location: 'Straße 1' }, { location: 'STRASSE 1' })).toBe(true);
    });

    it('requires equality, not containment', () => {
      expect(matches({ location: 'Berlin' }, { location: 'Berlin, Germany' })).toBe(false);
      expect(matches({ location: 'Berlin' }, { location: 'Munich' })).toBe(false);
    });

    it('fails a search with location when the posting has none', () => {
      expect(matches({ location: 'Berlin' }, {})).toBe(false);
    });

    it('does not restrict when the search has no location', () => {
      expect(matches({}, { location: 'Anywhere' })).toBe(true);
      expect(matches({}, {})).toBe(true);
    });
  });

  describe('remote', () => {
    it('remote: true only matches postings with remote === true', () => {
      expect(matches({ remote: true }, { remote: true })).toBe(true);
      expect(matches({ remote: true }, { remote: false })).toBe(false);
      expect(matches({ remote: true }, {})).toBe(false);
    });

    it('remote false or absent does not restrict', () => {
      for (const remote of [true, false, undefined]) {
        expect(matches({ remote: false }, { remote })).toBe(true);
        expect(matches({}, { remote })).toBe(true);
      }
    });
  });

  describe('minSalary', () => {
    it('requires salary >= minSalary', () => {
      expect(matches({ minSalary: 50_000 }, { salary: 60_000 })).toBe(true);
      expect(matches({ minSalary: 50_000 }, { salary: 50_000 })).toBe(true);
      expect(matches({ minSalary: 50_000 }, { salary: 49_999 })).toBe(false);
    });

    it('fails a posting with no salary', () => {
      expect(matches({ minSalary: 1 }, {})).toBe(false);
      expect(matches({ minSalary: 0 }, {})).toBe(false);
    });

    it('matches minSalary 0 with salary 0', () => {
      expect(matches({ minSalary: 0 }, { salary: 0 })).toBe(true);
    });

    it('does not restrict when the search has no minSalary', () => {
      expect(matches({}, {})).toBe(true);
      expect(matches({}, { salary: 0 })).toBe(true);
    });
  });

  it('combines all criteria', () => {
    const p = { title: 'Senior TypeScript engineer', tags: ['node.js'], location: 'Berlin', remote: true, salary: 90_000 };
    const search: Search = { keywords: ['typescript', 'node.js'], location: 'BERLIN', remote: true, minSalary: 80_000 };
    expect(matches(search, p)).toBe(true);
    expect(matches({ ...search, minSalary: 100_000 }, p)).toBe(false);
    expect(matches({ ...search, location: 'Hamburg' }, p)).toBe(false);
    expect(matches(search, { ...p, remote: false })).toBe(false);
    expect(matches({ ...search, keywords: ['typescript', 'node'] }, p)).toBe(false);
  });

  it('reads a stored null location or minSalary as "not set" instead of throwing', () => {
    const stored = { keywords: ['engineer'], location: null, minSalary: null } as unknown as Search;
    expect(matches(stored, { location: 'Berlin', salary: 1 })).toBe(true);
    expect(matches(stored, {})).toBe(true);
  });
});

describe('anchorWord', () => {
  it('returns the longest word among all keyword words', () => {
    expect(anchorWord(['go', 'kubernetes'])).toBe('kubernetes');
    expect(anchorWord(['machine learning', 'go'])).toBe('learning');
    expect(anchorWord(['Node.js', 'C#'])).toBe('node.js');
    expect(anchorWord(['MACHINE'])).toBe('machine');
    expect(anchorWord(['platform.'])).toBe('platform');
  });

  it('returns null when no keyword has a word', () => {
    expect(anchorWord(['--'])).toBeNull();
    expect(anchorWord(['...', ' ', ''])).toBeNull();
    expect(anchorWord([])).toBeNull();
  });

  it('ignores word-less keywords next to real ones', () => {
    expect(anchorWord(['--', 'rust'])).toBe('rust');
  });

  it('is contained in the words of every posting that matches the search (generated cases)', () => {
    // Small deterministic PRNG (mulberry32) so the cases are reproducible.
    let seed = 0x5eed;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const vocabulary = ['Go', 'Rust', 'C#', 'C++', 'Node.js', 'front-end', 'machine', 'learning', 'Straße', 'Zürich', 'ΟΔΟΣ', 'data', 'kubernetes', 'API', 'platform.'];
    const text = (n: number): string => Array.from({ length: n }, () => pick(vocabulary)).join(pick([' ', ', ', ' / ', '\n']));

    let matched = 0;
    for (let i = 0; i < 300; i++) {
      const job = posting({ id: `p${i}`, title: text(1 + Math.floor(random() * 4)), description: random() < 0.7 ? text(Math.floor(random() * 8)) : undefined, tags: random() < 0.5 ? [text(1), text(2)] : undefined });
      const words = postingWords(job);
      // Keywords are drawn from the posting's own words (often) or the vocabulary, singly or as 2-word phrases.
      const source = [...words.all];
      const keywords = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
        const first = random() < 0.8 && source.length > 0 ? pick(source) : pick(vocabulary);
        return random() < 0.3 ? `${first} ${pick(random() < 0.5 && source.length > 0 ? source : vocabulary)}` : first;
      });
      const anchor = anchorWord(keywords);
      expect(anchor).not.toBeNull();
      if (matchesPosting({ keywords }, job, words)) {
        matched++;
        expect(words.all.has(anchor as string)).toBe(true);
      }
    }
    // The property must actually have been exercised.
    expect(matched).toBeGreaterThan(30);
  });
});
