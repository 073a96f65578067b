"""What a question asks for, in the terms of the person's own DataFrames and columns.

The offline planner answers from this, and the model-driven loop uses
:func:`asks_for_action` to check that a side-effecting tool was asked for in the
person's own words. Plain rules, no model and no network: it must be fast and
predictable.
"""

from __future__ import annotations

import difflib
import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from .workspace import Workspace

__all__ = [
    "INTENT_KINDS",
    "Intent",
    "IntentKind",
    "asks_for_action",
    "code_span",
    "compact",
    "detect",
    "flatten_uploads",
    "quote_name",
]

IntentKind = Literal[
    "overview",
    "missing",
    "describe_column",
    "plot_distribution",
    "plot_relationship",
    "correlations",
    "automl",
    "load_upload",
    "explain_error",
    "help",
]
INTENT_KINDS: tuple[str, ...] = IntentKind.__args__  # type: ignore[attr-defined]


@dataclass
class Intent:
    """One recognised request.

    Attributes
    ----------
    kind
        One of :data:`INTENT_KINDS`.
    dataframe
        Name of the DataFrame variable it is about (None when there is none).
    columns
        Columns named in the question, in the order they were written.
    target
        Column to predict (``automl``).
    upload
        Upload id when one matched, else the file name as written (``load_upload``).
    time_limit
        Seconds, when the question gave a time budget.
    """

    kind: IntentKind
    dataframe: str | None = None
    columns: list[str] = field(default_factory=list)
    target: str | None = None
    upload: str | None = None
    time_limit: int | None = None


# -- vocabulary ------------------------------------------------------------------------

_NEGATION = re.compile(
    r"\b(?:don'?t|do not|does not|doesn'?t|never|not|no|without|stop|avoid|skip|cancel|"
    r"instead of|rather than|no need to|shouldn'?t|won'?t)\b"
)
_CLAUSE_BREAK = re.compile(r"[.;:!?,]|\b(?:but|then|and then|instead)\b")

_ERROR = re.compile(
    r"\b(?:errors?|traceback|exceptions?|fail(?:s|ed|ing|ure)?|crash(?:ed|es)?|broke|broken|"
    r"went wrong|goes wrong|wrong with|bug|keyerror|typeerror|valueerror|nameerror|"
    r"attributeerror|filenotfounderror|modulenotfounderror|importerror|"
    r"(?:does|did|is)n'?t (?:work|run)|not working|fix (?:it|this|that|my code|the code))\b"
)
_FILE_NAME = re.compile(
    r"(?<![\w.])([\w][\w.()\-]{0,120}?\.(?:csv|tsv|txt|json|jsonl|parquet|xlsx|zip|png|jpe?g|"
    r"webp|gif|heic|heif|avif))\b",
    re.IGNORECASE,
)
_UPLOAD = re.compile(r"\b(?:uploads?|uploaded)\b")
_LOAD_VERB = re.compile(r"\b(?:load|loads|loading|open|read|import|bring in|use)\b")
_AUTOML = re.compile(
    r"\b(?:train(?:ing|s)?|fit(?:ting|s)?|auto[ -]?ml|automl|predict(?:s|ing|ion|ions|or)?|"
    r"classif(?:y|ier|ication)|regress(?:or|ion)|machine learning|ml model|forecast(?:ing)?|"
    r"build (?:a |an )?model|models? (?:to|for|that|on))\b"
)
_CORRELATION = re.compile(
    r"\b(?:correlat\w*|corr|associat\w+|drivers?|important features?|feature importance|"
    r"what matters|matters? (?:for|most))\b"
)
_MISSING = re.compile(
    r"\b(?:missing|nulls?|nans?|na|n/a|isna|isnull|empty values?|blanks?|incomplete)\b"
)
_RELATION = re.compile(
    r"\b(?:vs\.?|versus|against|relationship|relation|relates?|related|scatter\w*|"
    r"compare|comparison|across|depends? on|affect\w*|impact|effect of|by|per)\b"
)
_RELATION_STRONG = re.compile(
    r"\b(?:vs\.?|versus|against|relationship|relation|relates?|related|scatter\w*)\b"
)
_DISTRIBUTION = re.compile(
    r"\b(?:hist|histograms?|distributions?|distributed|spread|frequenc(?:y|ies)|"
    r"value counts|counts? of|bar ?charts?|bar ?plots?|kde|density|box ?plots?)\b"
)
_PLOT = re.compile(r"\b(?:plot|plots|chart|graph|visuali[sz]e|draw|show me a picture)\b")
_DESCRIBE = re.compile(
    r"\b(?:describe|description|stats|statistics|summary|summari[sz]e|tell me about|about|"
    r"look like|looks like|values of|unique|range|mean|median|average)\b"
)
_OVERVIEW = re.compile(
    r"\b(?:overview|summary|summari[sz]e|profile|profiling|describe|eda|explore|exploration|"
    r"look at|inspect|what'?s in|info|shape|dataset|data set|head|first rows|structure|"
    r"schema|columns)\b"
)
_HELP = re.compile(r"\b(?:help|what can you do|can do|how do i use|commands|capabilities)\b")
# Questions about an action, rather than requests for it ("can you …" is a request).
_ASKS_ABOUT = re.compile(
    r"^(?:what|why|which|how|when|whether|is|are|does|do|did|should|shall|could i|can i|"
    r"would it|will it)\b"
)
# The words that ask for an action with side effects, per gated action.
_ACTION_REQUESTS: dict[str, tuple[re.Pattern[str], ...]] = {
    "automl": tuple(
        re.compile(pattern)
        for pattern in (
            r"\b(?:train|fit|build|run|start|launch|kick off|create|make|try)\b"
            r"(?:\s+\S+){0,5}?\s+(?:a |an |the |some )?(?:model|models|automl|auto[ -]?ml|"
            r"classifier|regressor|predictor)\b",
            r"\b(?:train|fit)\b(?:\s+\S+){0,3}?\s+(?:on|to|for)\b",
            r"\bpredict(?:ing)?\s+\S",
            r"^(?:please\s+)?(?:run\s+)?auto[ -]?ml\b",
            r"\bauto[ -]?ml\s+(?:on|for|with|to)\b",
            r"\b(?:classify|forecast)\s+\S",
        )
    ),
    "load_upload": tuple(
        re.compile(pattern)
        for pattern in (
            r"\b(?:load|open|read|import|bring in)\b(?:\s+\S+){0,4}?\s+(?:upload|uploads|"
            r"uploaded|file)\b",
            r"\b(?:load|open|read|import)\b[^.;!?]{0,80}?\.(?:csv|tsv|txt|json|jsonl|parquet|"
            r"xlsx|png|jpe?g|webp|gif|heic|heif|avif)\b",
            r"\b(?:load|open|read|import)\s+(?:it|this|that|them)\b",
        )
    ),
}
_TARGET_CUE = re.compile(r"\b(?:predict\w*|target|label|classify|forecast\w*|on|for|of)\b")
_FEATURE_CUE = re.compile(r"\b(?:using|from|with|based on|given)\b")
_TIME = re.compile(
    r"(\d+(?:\.\d+)?)\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)\b"
    r"|\b(?:time[ _]?limit|budget|time)\s*(?:of|=|:)?\s*(\d+)\b"
)


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Function words never taken as a column unless quoted ("who" is a titanic column, "t"
# one in the air-quality data).
_STOPWORDS = _word_set(
    "a an the of in on to by for and or is are was be what who whom which when where how "
    "why it its this that these those me my i you your we our do does did can could would "
    "please show give plot all any with from vs versus against between data column columns "
    "dataframe frame value values t s"
)
# Words of the intent vocabulary: never fuzzy-matched to a column.
_VOCABULARY = _word_set(
    "overview summary summarize summarise profile describe missing nulls null nans values "
    "column columns histogram histograms distribution distributions distributed plot plots "
    "chart graph scatter relationship relation between versus against correlation "
    "correlations correlated train training model models predict prediction automl fit "
    "target load upload uploads uploaded error errors explain traceback please show give "
    "what which where there their about statistics stats dataset frame table first rows "
    "help spread frequency counts average median range unique"
)
_NOT_NAMES = _VOCABULARY | _STOPWORDS
_FUZZY_CUTOFF = 0.84
_QUOTED_FUZZY_CUTOFF = 0.75
_MAX_NGRAM = 6


def compact(text: str) -> str:
    """Case-, space- and punctuation-free form, so ``Monthly income`` finds ``MonthlyIncome``."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_QUOTE = re.compile(
    r"`([^`\n]{1,200})`|\"([^\"\n]{1,200})\"|[\u201c\u2018]([^\u201d\u2019\n]{1,200})[\u201d\u2019]"
    r"|(?<![\w])'([^'\n]{1,200})'(?![\w])"
)


def _spaced(text: str) -> str:
    """CamelCase split into words (only spaces are added, so offsets stay comparable)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)


def _words(text: str) -> list[str]:
    return [found.group().casefold() for found in _WORD.finditer(_spaced(text))]


def _quoted(text: str) -> list[str]:
    names = []
    for found in _QUOTE.finditer(text):
        value = next(group for group in found.groups() if group is not None).strip()
        if value:
            names.append(value)
    return names


def _masked(question: str, taken: set[int]) -> str:
    """``question`` with quoted text and matched names blanked, so a column called
    "error rate" or "missing" does not change what is being asked."""
    spaced = _spaced(question)
    spans = [found.span() for found in _QUOTE.finditer(spaced)]
    spans += [w.span() for i, w in enumerate(_WORD.finditer(spaced)) if i in taken]
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        spaced = f"{spaced[:start]} qname {spaced[end:]}"
    return spaced


def _normalise(question: str) -> str:
    text = question.replace("\u2019", "'").replace("\u2018", "'").casefold()
    return re.sub(r"\s+", " ", text).strip()


def _negated(text: str, start: int) -> bool:
    """A negation earlier in the same clause as the word at ``start``."""
    clause_start = 0
    for found in _CLAUSE_BREAK.finditer(text, 0, start):
        clause_start = found.end()
    return bool(_NEGATION.search(text, clause_start, start))


def _affirmed(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match of ``pattern`` that is not negated in its clause."""
    for found in pattern.finditer(text):
        if not _negated(text, found.start()):
            return found
    return None


# -- names -----------------------------------------------------------------------------


@dataclass
class _Mention:
    name: str
    position: int
    #: How strongly the words name it: one per word matched exactly, less for a guess.
    weight: float = 1.0


def _alias_map(names: Iterable[str]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for name in names:
        key = compact(name)
        if key:
            aliases.setdefault(key, name)
    return aliases


def _find_names(
    words: list[str],
    quoted: list[str],
    names: Iterable[str],
    taken: set[int] | None = None,
    *,
    quoted_near_misses: bool = True,
) -> list[_Mention]:
    """Names (columns or variables) mentioned in ``words``, in the order written.

    Quoted names first, then the longest runs of words spelling a name exactly (or a
    plural of one, or the start of exactly one name, like "bill length" for
    ``bill_length_mm``), then runs of up to four words close to a name. Matched words are added
    to ``taken`` so a word names one thing only. Without ``quoted_near_misses``, a
    quoted text must spell a name exactly.
    """
    aliases = _alias_map(names)
    if not aliases:
        return []
    taken = set() if taken is None else taken
    found: dict[str, _Mention] = {}
    for index, text in enumerate(quoted):
        key = compact(text)
        if _spanned(words, key) & taken:
            continue  # already read as another kind of name (a DataFrame)
        name = aliases.get(key)
        if name is None and key and quoted_near_misses:
            close = difflib.get_close_matches(key, aliases, n=1, cutoff=_QUOTED_FUZZY_CUTOFF)
            name = aliases[close[0]] if close else None
        if name is not None and name not in found:
            position = _take_words(words, key, taken)
            found[name] = _Mention(name, index - len(quoted) if position is None else position)
    for size in range(min(_MAX_NGRAM, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            span = range(start, start + size)
            if taken.intersection(span):
                continue
            run = words[start : start + size]
            name, weight = _spelled(run, aliases)
            if name is None:
                continue
            taken.update(span)
            if name not in found:
                found[name] = _Mention(name, start, weight)
    for size in (4, 3, 2, 1):
        for start in range(len(words) - size + 1):
            span = range(start, start + size)
            run = words[start : start + size]
            if taken.intersection(span) or run[0] in _NOT_NAMES or run[-1] in _NOT_NAMES:
                continue
            key = "".join(run)
            if len(key) < 4:
                continue
            close = difflib.get_close_matches(key, aliases, n=1, cutoff=_FUZZY_CUTOFF)
            if close and aliases[close[0]] not in found:
                taken.update(span)
                found[aliases[close[0]]] = _Mention(aliases[close[0]], start, 0.5)
    return sorted(found.values(), key=lambda mention: mention.position)


def _spelled(run: list[str], aliases: dict[str, str]) -> tuple[str | None, float]:
    """The name a run of words spells, and how much that counts."""
    key = "".join(run)
    if len(run) == 1 and key in _STOPWORDS:
        return None, 0.0
    if key in aliases:
        return aliases[key], float(len(run))
    if len(run) == 1 and len(key) >= 4 and key.endswith("s"):
        singular = aliases.get(key[:-1]) or (aliases.get(key[:-2]) if key.endswith("es") else None)
        if singular is not None:
            return singular, 1.0
    edges_are_words = run[0] not in _STOPWORDS and run[-1] not in _STOPWORDS
    long_enough = len(run) >= 2 or (len(key) >= 5 and key not in _VOCABULARY)
    if edges_are_words and long_enough:
        starting = [alias for alias in aliases if alias.startswith(key)]
        if len(starting) == 1:
            return aliases[starting[0]], len(run) * 0.75
    return None, 0.0


def _spanned(words: list[str], key: str) -> set[int]:
    """Indices of the first run of words spelling ``key``, longest runs first."""
    for size in range(min(_MAX_NGRAM, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            if "".join(words[start : start + size]) == key:
                return set(range(start, start + size))
    return set()


def _take_words(words: list[str], key: str, taken: set[int]) -> int | None:
    """Mark the words spelling ``key`` (a quoted name) as used; return where they start."""
    span = _spanned(words, key)
    taken.update(span)
    return min(span) if span else None


def _frame_names(workspace: Workspace) -> dict[str, Any]:
    return {
        name: frame
        for name, frame in workspace.dataframes().items()
        if name.isidentifier() and not keyword.iskeyword(name)
    }


def _column_labels(frame: Any) -> list[str]:
    return [label for label in frame.columns if isinstance(label, str)]


# -- public ----------------------------------------------------------------------------


def detect(question: str, workspace: Workspace) -> Intent:
    """The intent of ``question`` with the DataFrame and columns it names.

    Quoted names (backticks, single or double quotes) win over loose words; names are
    matched ignoring case, spaces, underscores and CamelCase, with a fuzzy match for
    near misses. With no DataFrame named, the one whose columns the question names
    best is used (the most recently defined on a tie), else the most recent one.
    """
    words = _words(question)
    quoted = _quoted(question)
    frames = _frame_names(workspace)
    frame_words: set[int] = set()
    # A quoted text names a DataFrame only when it spells it: `tip` is a column, not `tips`.
    named_frames = _find_names(words, quoted, frames, frame_words, quoted_near_misses=False)
    frame_name = named_frames[0].name if named_frames else None
    mentions: list[_Mention] = []
    taken = frame_words
    best = 0.0
    for name in [frame_name] if frame_name else list(reversed(frames)):
        words_used = set(frame_words)
        found = _find_names(words, quoted, _column_labels(frames[name]), words_used)
        score = sum(mention.weight for mention in found)
        if score > best:
            best, frame_name, mentions, taken = score, name, found, words_used
    if frame_name is None and frames:
        frame_name = next(reversed(frames))
    text = _normalise(_masked(question, taken))
    columns = [mention.name for mention in mentions]
    names_file = any(_FILE_NAME.search(part) for part in [question, *quoted])
    kind = _kind(text, columns, bool(named_frames), names_file)
    intent = Intent(kind=kind, dataframe=frame_name, columns=columns)
    if kind == "automl":
        intent.target = _target(words, mentions)
        intent.time_limit = _time_limit(text)
    elif kind == "load_upload":
        intent.upload = _upload_reference(question, quoted, workspace)
    return intent


def asks_for_action(question: str, action: str) -> bool:
    """True only when the person's own words ask for ``action`` ("automl", "load_upload").

    Strict on purpose: it gates tools with side effects. A question about the action
    ("what is AutoML?", "why did training fail?") or a negated one ("don't train yet")
    does not count.
    """
    if action not in _ACTION_REQUESTS:
        raise ValueError(f"unknown action {action!r}; expected 'automl' or 'load_upload'")
    text = _normalise(question)
    if _ERROR.search(text) or _ASKS_ABOUT.match(text):
        return False
    if action == "load_upload" and re.match(r"^(?:list|show)\b", text):
        return False
    return any(
        not _negated(text, found.start())
        for pattern in _ACTION_REQUESTS[action]
        for found in pattern.finditer(text)
    )


def quote_name(name: Any) -> str:
    """``name`` quoted so that :func:`detect` reads it back as one name (backticks first)."""
    text = re.sub(r"\s+", " ", str(name)).strip()
    for left, right in (("`", "`"), ('"', '"'), ("'", "'")):
        if left not in text and right not in text:
            return f"{left}{text}{right}"
    return text


def code_span(name: Any, limit: int = 60) -> str:
    """``name`` as inline code for markdown: backticks and line breaks removed, clipped."""
    text = re.sub(r"[`\s]+", " ", str(name)).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"`{text}`" if text else "`(blank)`"


def flatten_uploads(records: Iterable[Any]) -> list[Any]:
    """Upload records with each archive's members after it."""
    flat: list[Any] = []
    for record in records:
        flat.append(record)
        flat.extend(flatten_uploads(getattr(record, "children", None) or ()))
    return flat


# -- helpers ---------------------------------------------------------------------------


def _kind(text: str, columns: list[str], frame_named: bool, names_file: bool) -> IntentKind:
    if not text:
        return "help"
    if _affirmed(_ERROR, text):
        return "explain_error"
    if _UPLOAD.search(text) or (_LOAD_VERB.search(text) and names_file):
        return "load_upload"
    if _affirmed(_AUTOML, text):
        return "automl"
    if _CORRELATION.search(text):
        return "correlations"
    if _affirmed(_MISSING, text):
        return "missing"
    if len(columns) >= 2 and _RELATION.search(text):
        return "plot_relationship"
    if _DISTRIBUTION.search(text):
        return "plot_distribution"
    if _PLOT.search(text) or _RELATION_STRONG.search(text):
        return "plot_relationship" if len(columns) >= 2 else "plot_distribution"
    if columns and _DESCRIBE.search(text):
        return "describe_column"
    if _OVERVIEW.search(text):
        return "overview"
    if _HELP.search(text):
        return "help"
    if columns:
        return "describe_column"
    return "overview" if frame_named else "help"


def _target(words: list[str], mentions: list[_Mention]) -> str | None:
    """The first column named right after a cue like "predict" (not after "using")."""
    if not mentions:
        return None
    cues = {i for i, word in enumerate(words) if _TARGET_CUE.fullmatch(word)}
    features = {i for i, word in enumerate(words) if _FEATURE_CUE.fullmatch(word)}
    for mention in mentions:
        before = [i for i in cues | features if i < mention.position]
        if before and max(before) in cues:
            return mention.name
    return mentions[0].name


def _time_limit(text: str) -> int | None:
    found = _TIME.search(text)
    if not found:
        return None
    if found.group(3):
        return int(found.group(3))
    amount, unit = float(found.group(1)), found.group(2)
    scale = 3600 if unit.startswith("h") else 60 if unit.startswith("m") else 1
    return max(1, round(amount * scale))


def _upload_reference(question: str, quoted: list[str], workspace: Workspace) -> str | None:
    """The id of the upload the question names, else the name as written."""
    written = list(quoted) + [m.group(1).strip() for m in _FILE_NAME.finditer(question)]
    try:
        records = flatten_uploads(workspace.list_uploads())
    except Exception:  # the catalog is unavailable: answer from the words alone
        records = []
    by_key: dict[str, Any] = {compact(r.name): r for r in reversed(records)}
    by_key.update({r.id: r for r in records})
    for name in written:
        record = by_key.get(name) or by_key.get(compact(name))
        if record is None and by_key:
            close = difflib.get_close_matches(compact(name), list(by_key), n=1, cutoff=0.8)
            record = by_key[close[0]] if close else None
        if record is not None:
            return str(record.id)
    ids = {str(r.id).casefold(): r for r in records}
    for word in _words(question):
        if word in ids:
            return str(ids[word].id)
    stems = {r.name.rsplit(".", 1)[0]: r for r in reversed(records)}
    for mention in _find_names(_words(question), [], stems):
        return str(stems[mention.name].id)
    return written[0] if written else None
