"""Who said what: find direct and reported speech in an article and attribute it to a named speaker (words.py:
the vocabulary and the shape of a name, speakers.py: the people of an article, finder.py: the attribution).

Forms: `“...,” X said`, `X said ...` (also `X, the party's leader, said`), `said X` (also `said White House
spokesman X`), `according to X`, `X and Y said`; a pronoun (`he said`) or a role (`the governor announced`)
standing for the one person named just before; and a quotation that goes on in the same paragraph right after an
attributed one. A short form takes the full name seen earlier in the article (`Mr Kerry` -> `John Kerry`), with
the role written before it (`US secretary`, `Gov.`).

Precision over recall, because a quote must never be attributed to the wrong person:
- a possessive is never a speaker (`Pritzker’s office said` is the office; in `said Trump’s invocation ...`
  Trump is what was said), but it does teach the name (`Gov. JB Pritzker’s objections` -> `Pritzker`);
- a name inside quotation marks is never the speaker; names never run across a line break (a byline);
- a pronoun or a role is resolved only when exactly one person fits; otherwise the sentence stays unattributed.
Accented names match in either Unicode form (NFC or NFD); the speaker is stored in NFC.
"""

from index.quotes.finder import VERSION, extract_quotes, quote_aware_spans, refresh_quotes
from index.quotes.words import clean, inside_quotes, is_org

__all__ = ["VERSION", "clean", "extract_quotes", "inside_quotes", "is_org", "quote_aware_spans", "refresh_quotes"]
