"""Reading article files of every shape a researcher collects into raw documents.

A raw document is a list of text blocks (a line, an HTML ``<p>``, a Markdown
paragraph) with a hint of what the markup said about each; splitting into
articles and deciding what is a paragraph is the cleaning stage's job.
"""
from __future__ import annotations

import codecs
import gzip
import html
import json
import os
import re
import stat
import sys
import unicodedata
import zlib
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

#: Files with these endings are read; anything else in a folder is passed over.
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
CORPUS_SUFFIXES = (".jsonl", ".jsonl.gz")


class ReadProblem(Exception):
    """An input that cannot be read; the message names the file and the reason."""

    def __init__(self, source: str, reason: str):
        source = shown_name(source)
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason

    def __reduce__(self):  # found in a worker process, reported by the parent
        return ReadProblem, (self.source, self.reason)


@dataclass
class Block:
    """A piece of text between line breaks or block tags, with the markup's hint."""

    text: str
    heading: bool = False


@dataclass
class RawDocument:
    """One file's text (or one JSONL record) before it is split into articles."""

    source: str
    blocks: list[Block]
    title: str | None = None
    date: str | None = None
    #: The author named in the file's front matter (a Markdown archive's ``author: "…"``).
    author: str | None = None
    record_id: str | None = None
    #: JSONL records are one article each and are never split at headlines.
    single_article: bool = False
    #: A file whose front matter gives its title holds one article (a Markdown archive's or a blog's
    #: post): its headings are the title, kicker, subtitle and section subheads of that one article.
    whole: bool = False
    #: The number of the document's first article within its file: a record's position in its corpus.
    first_article: int = 0
    #: A later piece of a file read in pieces: its articles are numbered on from those of the
    #: pieces before, which only the reader, taking the pieces' results in order, can count.
    continued: bool = False
    #: A JSONL record's line in its corpus, which problems with it name.
    line: int | None = None


# --------------------------------------------------------------------------- files


#: A folder's own documentation (README.md, the labels' ANNOTATION.md guide), not its articles: skipped
#: when the folder is walked, read when named on the command line.
FOLDER_DOCUMENTATION = frozenset({"README", "ANNOTATION", "LICENSE", "CHANGELOG"})


def shown_name(path: str) -> str:
    """A path as printable UTF-8 text: the bytes of a file name that are not UTF-8 (which Python
    keeps as lone surrogates, and which no UTF-8 output can hold) written as ``\\xNN``."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def shown_path(path: str, project: Path | None) -> str:
    """A path as a reader of the report should see it: relative to the project where it is inside,
    bytes of its name that are not UTF-8 as escapes (see ``shown_name``)."""
    try:
        return shown_name(str(Path(path).resolve().relative_to(Path(project).resolve())) or ".")
    except (TypeError, ValueError):
        return shown_name(path)


def find_inputs(paths: list[str]) -> Iterator[str | ReadProblem]:
    """Expand the command-line paths into files, in a stable (sorted) order.

    Folders are walked recursively; a link inside a folder is followed only
    where it stays inside that folder (a scraped folder's link to /etc/passwd
    is not an article), while a link named on the command line is followed.
    ``-`` stands for standard input.
    """
    for raw in paths:
        if raw == "-":
            yield "-"
            continue
        path = Path(raw)
        if not path.exists():
            yield ReadProblem(raw, "no such file or folder")
            continue
        if path.is_dir():
            found = list(_walk(path))
            if not any(isinstance(f, str) for f in found):
                yield ReadProblem(raw, "folder holds no readable articles "
                                  f"({', '.join(TEXT_SUFFIXES + CORPUS_SUFFIXES)})")
            yield from found
        else:
            yield str(path)


def _inside(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


def _walk(folder: Path) -> Iterator[str | ReadProblem]:
    root = os.path.realpath(folder)
    seen: set[tuple[int, int]] = set()
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            info = current.stat()
        except OSError as error:
            yield ReadProblem(str(current), f"cannot open folder ({error.strerror})")
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen:
            above = _inside(os.path.realpath(current.parent), os.path.realpath(current))
            yield ReadProblem(str(current), "folder link loops back to a folder already read" if above
                              else "folder link leads to a folder already read")
            continue
        seen.add(key)
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as error:
            yield ReadProblem(str(current), f"cannot list folder ({error.strerror})")
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            wanted = is_dir or (entry.name.lower().endswith(TEXT_SUFFIXES + CORPUS_SUFFIXES)
                                and entry.name.split(".")[0] not in FOLDER_DOCUMENTATION)
            if wanted and entry.is_symlink() and not _inside(os.path.realpath(entry.path), root):
                yield ReadProblem(entry.path, "link leads outside the folder; not followed "
                                  "(name it on the command line to read it)")
            elif is_dir:
                subfolders.append(Path(entry.path))
            elif wanted:
                yield entry.path
        stack.extend(reversed(subfolders))


@dataclass
class CorpusLines:
    """A run of whole lines of a JSON Lines corpus, read but not yet parsed.

    Parsing is left to whoever works on the records, so that with several
    processes the one reading the files only passes blocks of bytes on. The
    reader counts the records (non-blank lines) as it goes, so each record's
    position in its file, which is its article number, is known here.
    """

    source: str
    #: The line number of the first line (from 1) and how many records came before it in the file.
    first_line: int
    first_record: int
    data: bytes

    def documents(self) -> Iterator[RawDocument | ReadProblem]:
        """Each record as a raw document, or a ReadProblem where a line is not a usable record."""
        record = self.first_record
        for line_number, line in enumerate(self.data.split(b"\n"), start=self.first_line):
            if not line.strip():
                continue
            try:
                yield _corpus_record(line, self.source, line_number, record)
            except ReadProblem as problem:  # one bad record does not stop the corpus
                yield problem
            record += 1


@dataclass(frozen=True)
class ArticleText:
    """An article given as text instead of a file (the Python API's inputs): read as a .txt file is,
    title on the first line; ``source`` names it in the output."""

    text: str
    source: str


def read_documents(paths: list[str | ArticleText], on_read: Callable[[int], None] = lambda size: None
                   ) -> Iterator[RawDocument | CorpusLines | ReadProblem]:
    """Every raw document of every input (corpus lines still to parse), or a problem for an input that failed.

    ``on_read`` is told, as reading goes, how many bytes of the input files it
    has taken in (standard input aside): progress out of ``input_size``.
    """
    for path in paths:
        if isinstance(path, ArticleText):
            on_read(len(path.text.encode("utf-8", "surrogatepass")))
            if path.text.strip():
                yield parse_text(path.text, path.source)
            else:
                yield ReadProblem(path.source, "the text is empty")
            continue
        for item in find_inputs([path]):
            if isinstance(item, ReadProblem):
                yield item
                continue
            try:
                yield from read_file(item, on_read)
            except ReadProblem as problem:
                yield problem


def input_size(paths: list[str | ArticleText]) -> int:
    """The bytes of every file (and text) that reading ``paths`` reads, standard input aside."""
    texts = sum(len(p.text.encode("utf-8", "surrogatepass")) for p in paths if isinstance(p, ArticleText))
    files = [p for p in paths if not isinstance(p, ArticleText)]
    return texts + sum(_size(item) for item in find_inputs(files) if isinstance(item, str) and item != "-")


#: Files larger than this are decoded as a stream and parsed in pieces, so memory stays bounded.
LARGE_FILE = 8 * 2**20
#: The size of those pieces, in characters; each is cut at a blank line (else a line end).
PIECE = 2**20
#: No real paragraph is near this many characters (about 3 MB): longer ones, a page without line
#: breaks or a stream of garbage, are left out with a line saying so (cleaning refuses them; a line
#: longer than a piece is passed over while reading), which bounds the time and memory one takes.
MAX_PARAGRAPH = 1_000_000


def read_file(path: str, on_read: Callable[[int], None] = lambda size: None
              ) -> Iterator[RawDocument | CorpusLines | ReadProblem]:
    """One input's documents; ``-`` is standard input, read as a stream (a corpus when its first
    line is a JSON record). Names are given as ``shown_name`` makes them."""
    source = shown_name(path)
    if path == "-":
        yield from _read_stdin()
        return
    if path.lower().endswith(CORPUS_SUFFIXES):
        yield from read_corpus(path, on_read)
        return
    if _size(path) > LARGE_FILE:
        with _open_regular(path) as handle:
            yield from _text_pieces(source, _chunks(handle, PIECE, on_read))
        return
    with _open_regular(path) as handle:
        data = _read(handle, source)
    on_read(len(data))
    yield _whole_text(data, source)


def _whole_text(data: bytes, source: str) -> RawDocument:
    text = decode(data, source)
    if not text.strip():
        raise ReadProblem(source, "file is empty" if not data else "file holds only blank space")
    return parse_text(text, source)


def _read_stdin() -> Iterator[RawDocument | CorpusLines | ReadProblem]:
    """Standard input as a stream: what a small file would give, in bounded memory however much comes.

    Up to ``LARGE_FILE`` is read first: a JSON record on the first line makes
    it a corpus; text that ends within it is read whole, like a file.
    """
    stream = sys.stdin.buffer
    head = bytearray()
    while len(head) <= LARGE_FILE:
        data = stream.read1(PIECE)
        if not data:
            break
        head += data
    head = bytes(head)
    rest = _chunks(stream, PIECE)
    if _starts_with_record(head):
        blocks = (head[i: i + CORPUS_BLOCK] for i in range(0, len(head), CORPUS_BLOCK))
        yield from _corpus_runs("-", chain(blocks, rest))
    elif len(head) <= LARGE_FILE:
        yield _whole_text(head, "-")
    else:
        yield from _text_pieces("-", chain([head], rest))


def _starts_with_record(head: bytes) -> bool:
    """Whether the first non-blank line is a JSON object with a "text": JSON Lines, not prose."""
    import orjson

    first = head.lstrip(codecs.BOM_UTF8 + b" \t\r\n").split(b"\n", 1)[0]
    if not first.startswith(b"{"):
        return False
    try:
        record = orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    return isinstance(record, dict) and "text" in record


def _chunks(handle: BinaryIO, size: int, on_read: Callable[[int], None] = lambda size: None
            ) -> Iterator[bytes]:
    """What an open file gives, a read at a time (``read1``: what one read gave is kept even when
    the next finds damage), telling ``on_read`` how many bytes of the file each took."""
    raw = getattr(handle, "fileobj", None) or handle  # a gzip file's progress is in compressed bytes
    taken = 0
    while True:
        data = handle.read1(size)
        if raw is not handle:
            on_read(raw.tell() - taken)
            taken = raw.tell()
        else:
            on_read(len(data))
        if not data:
            return
        yield data


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # reading it will say what is wrong


def _open_regular(path: str) -> BinaryIO:
    """Open a file to read, refusing what is not a regular file: a FIFO waits for a writer for ever,
    /dev/zero and /dev/urandom never end. Opened without blocking, so a FIFO cannot hang the open."""
    source = shown_name(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except PermissionError:
        raise ReadProblem(source, "permission denied") from None
    except OSError as error:
        raise ReadProblem(source, f"cannot read ({error.strerror})") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise ReadProblem(source, "is a folder" if stat.S_ISDIR(mode) else
                          "is not a regular file (a pipe, device or socket); give it as - on standard input")
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def _read(handle: BinaryIO, source: str) -> bytes:
    try:
        return handle.read()
    except OSError as error:
        raise ReadProblem(source, f"cannot read ({error.strerror})") from None


def _text_pieces(source: str, chunks: Iterator[bytes]) -> Iterator[RawDocument | ReadProblem]:
    """Text too large to hold at once: decoded incrementally, parsed piece by piece.

    An article that straddles two pieces is split in two; pieces are cut at
    blank lines to make that rare. A line longer than a piece is left out with
    a problem that says where. Undecodable bytes end the text with a problem
    that says where; the text before them is kept.
    """
    head = next(chunks, b"")
    if not head.strip():
        raise ReadProblem(source, "file is empty" if not head else "file holds only blank space")
    decoder = codecs.getincrementaldecoder(detect_encoding(head[:65536], source))()
    pending = ""
    chunk, offset, first = head, 0, True
    overlong: int | None = None  # characters so far of a line longer than a piece, being passed over
    while True:
        try:
            pending += decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            yield ReadProblem(source, f"undecodable bytes near byte {offset + error.start:,}; "
                                      "the text before them was read")
            chunk = b""
        offset += len(chunk)
        while len(pending) > PIECE or overlong is not None or (not chunk and pending.strip()):
            if overlong is not None:
                end = pending.find("\n")
                overlong += len(pending) if end < 0 else end
                pending = "" if end < 0 else pending[end + 1:]
                if end < 0 and chunk:
                    break
                yield ReadProblem(source, f"a line of {overlong:,} characters (near byte {offset:,}) is over "
                                          f"the limit of {MAX_PARAGRAPH:,} for a paragraph; left out")
                overlong = None
                continue
            cut = len(pending) if not chunk else _piece_end(pending)
            if cut is None:  # the first line fills the whole piece
                overlong = 0
                continue
            piece, pending = pending[:cut], pending[cut:]
            if piece.strip():
                document = parse_text(piece, source)
                if not first:
                    document.title = document.date = document.author = None
                    document.whole = False
                    document.continued = True
                first = False
                yield document
        if not chunk:
            return
        chunk = next(chunks, b"")


def _piece_end(text: str) -> int | None:
    """Where to cut a piece: after the last blank line in it, else the last line end; None where
    no line ends within a piece."""
    for separator in ("\n\n", "\n"):
        cut = text.rfind(separator, 0, PIECE)
        if cut >= 0:
            return cut + len(separator)
    return None


# ----------------------------------------------------------------------- encodings

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BINARY_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"PK\x03\x04", b"\x1f\x8b")


def decode(data: bytes, source: str) -> str:
    """Detect the encoding (BOM, UTF-8, UTF-16 without BOM, GB18030 or Big5) and decode.

    Detection, not assumption: each candidate must decode strictly and give
    text that looks like text; a file that fits none is refused by name.
    """
    return _decode(data, source)[0]


def detect_encoding(head: bytes, source: str) -> str:
    """The encoding of a file from its first bytes, which may end inside a character."""
    for trim in (0, 1, 2, 3):
        try:
            return _decode(head[: len(head) - trim], source)[1]
        except ReadProblem:
            if trim == 3:
                raise
    raise AssertionError("unreachable")


def _decode(data: bytes, source: str) -> tuple[str, str]:
    """The text and the name of the encoding it was in."""
    if not data:
        return "", "utf-8"
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                text = None
            # \xff\xfe also starts many binary files: the text must also read as text.
            if text is None or (encoding != "utf-8-sig" and not _mostly_characters(text)):
                raise ReadProblem(source, f"starts with a {encoding.upper()} byte-order mark "
                                  "but is not text in that encoding")
            return text, encoding
    if data.startswith(_BINARY_MAGIC):
        raise ReadProblem(source, "is a binary file (image, PDF or archive), not text")
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    if b"\x00" in data[:65536]:
        raise ReadProblem(source, "is a binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        if error.start >= len(data) - 3 and _looks_like_text(data[: error.start].decode("utf-8")):
            # A file cut off inside its last character: keep everything before it.
            return data[: error.start].decode("utf-8"), "utf-8"
    readings = []
    for encoding in ("gb18030", "big5hkscs"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            readings.append((text, encoding))
    if not readings:
        raise ReadProblem(source, "is in no supported encoding (UTF-8, UTF-16, GB18030/GBK, Big5)")
    # Most Big5 bytes are also GBK bytes and the other way round: the reading whose characters are
    # the common ones of its own encoding is the right one (GB18030 on a tie).
    return max(readings, key=lambda reading: _common_share(*reading))


def _common_share(text: str, encoding: str) -> float:
    """The share of a text's non-ASCII characters that are common ones of the encoding it was read
    in: GB2312's (simplified characters and punctuation) for GB18030; for Big5, its symbols and
    frequent characters (A140-A3BF, A440-C67E). Text read in the wrong one of the two is mostly
    rare characters."""
    common = total = 0
    for ch in text[:20000]:
        if ch.isascii():
            continue
        total += 1
        try:
            if encoding == "gb18030":
                ch.encode("gb2312")
                common += 1
            else:
                code = int.from_bytes(ch.encode("big5"), "big")
                common += 0xA140 <= code <= 0xA3BF or 0xA440 <= code <= 0xC67E
        except UnicodeEncodeError:
            pass
    return common / total if total else 0.0


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without a byte-order mark: the byte order whose text is plausibly Chinese or ASCII."""
    if len(data) % 2 or b"\x00" not in data[:65536]:
        return None
    best, best_score = None, 0.0
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = text[:20000]
        plausible = sum(1 for ch in sample if ch.isascii() and (ch.isprintable() or ch in "\r\n\t")
                        or "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")
        score = plausible / max(1, len(sample))
        if score > best_score:
            best, best_score = (text, encoding), score
    return best if best_score >= 0.9 else None


def _mostly_characters(text: str) -> bool:
    """At least 90% letters, digits, punctuation, symbols and spaces (no unassigned or format codes)."""
    sample = text[:20000]
    readable = sum(1 for ch in sample if ch in "\r\n\t" or unicodedata.category(ch)[0] in "LNPSZ"
                   and unicodedata.category(ch) != "Co")
    return readable >= 0.9 * len(sample)


def _looks_like_text(text: str) -> bool:
    """Mostly letters, CJK, digits, punctuation and spaces, few control characters."""
    sample = text[:20000]
    if not sample:
        return True
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\r\n\t\f") or 0xE000 <= ord(ch) <= 0xF8FF)
    return bad / len(sample) < 0.01


# ---------------------------------------------------------------------- file kinds

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_HTML_HINT = re.compile(r"<(p|br|div|html|body|h[1-6]|article|section)\b[^>]*>", re.I)


def parse_text(text: str, source: str) -> RawDocument:
    """Turn a whole text file (plain, Markdown, HTML, Jekyll post) into blocks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    meta: dict[str, str] = {}
    front = _FRONT_MATTER.match(text)
    if front:
        meta = _front_matter(front.group(1))
        text = text[front.end():]
    if _HTML_HINT.search(text[:200000]) or source.lower().endswith((".html", ".htm")):
        blocks = html_blocks(text)
    else:
        blocks = markdown_blocks(text)
    title = " ".join(meta["title"].split()) if meta.get("title") else None
    return RawDocument(source=source, blocks=blocks, title=title, date=meta.get("date"),
                       author=_author(meta.get("author")), whole=bool(title))


def _author(value: str | None) -> str | None:
    """Authors as one line, names apart by a space: print pads a two-character name (游  仪 is 游仪)."""
    if not value:
        return None
    names: list[str] = []
    for part in value.split():
        if len(part) == 1 and names and len(names[-1]) == 1 and "\u4e00" <= part <= "\u9fff":
            names[-1] += part
        else:
            names.append(part)
    return " ".join(names)


def _front_matter(body: str) -> dict[str, str]:
    """The simple ``key: value`` lines of YAML front matter (title, date)."""
    meta = {}
    for line in body.splitlines():
        match = re.match(r"^([A-Za-z_]+)\s*:\s*(.*)$", line)
        if match:
            value = match.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            meta[match.group(1).lower()] = value
    if "date" in meta:
        meta["date"] = meta["date"][:10]
    return meta


#: Bounded, so that text full of "[" and "](" without a ")" costs linear time, not quadratic.
_MD_LINK = re.compile(r"!?\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")


#: An Obsidian callout's first line: ``> [!note] …``; its quoted lines below are part of it.
_CALLOUT = re.compile(r"^>\s*\[![\w-]+\]")


def markdown_blocks(text: str) -> list[Block]:
    """Lines of plain text or Markdown; headings and bold-only lines are marked.

    Obsidian-style callouts (``> [!type] …`` and the quoted lines under it) are
    someone's annotations on the article, not the article: they are left out.
    """
    blocks = []
    in_callout = False
    for line in text.split("\n"):
        stripped = line.strip()
        if in_callout and stripped.startswith(">"):
            continue
        in_callout = bool(_CALLOUT.match(stripped))
        if not stripped or in_callout:
            continue
        heading = False
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*$", stripped)
        if match:
            stripped, heading = match.group(1), True
        elif re.fullmatch(r"(\*\*|__)[^*_]+\1", stripped):
            heading = True
        stripped = re.sub(r"^(?:>\s*|[-+*]\s+(?=\S))", "", stripped)
        stripped = _MD_LINK.sub(r"\1", stripped)
        stripped = _MD_EMPHASIS.sub(r"\2", stripped)
        if stripped.strip():
            blocks.append(Block(stripped.strip(), heading))
    return blocks


#: Nesting deeper than this is no real page; an HTML parser needs time quadratic in the depth
#: (100,000 nested <div> take lexbor 17 s), so such markup is read by stripping its tags.
MAX_HTML_DEPTH = 1000
_TAG = re.compile(r"<(/?)([A-Za-z][\w:-]*)[^>]*?(/?)>")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_UNREAD = re.compile(r"<(script|style|noscript|template|head)\b.*?</\1\s*>|<!--.*?-->", re.S | re.I)


def html_depth(markup: str) -> int:
    """How deep the elements nest (closing tags counted, void elements not)."""
    depth = deepest = 0
    for closing, name, self_closing in _TAG.findall(markup):
        if closing:
            depth = max(0, depth - 1)
        elif not self_closing and name.lower() not in _VOID:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _stripped_blocks(markup: str) -> list[Block]:
    """The text of pathological markup: scripts and styles removed, block tags as line breaks."""
    text = _UNREAD.sub(" ", markup)
    text = _TAG.sub(lambda m: "\n" if m.group(2).lower() in _BLOCK_TAGS | {"br"} else "", text)
    return markdown_blocks(html.unescape(text))


def html_blocks(markup: str) -> list[Block]:
    """Block-level text of an HTML page; scripts, styles and comments are dropped."""
    from selectolax.lexbor import LexborHTMLParser

    if html_depth(markup) > MAX_HTML_DEPTH:
        return _stripped_blocks(markup)
    tree = LexborHTMLParser(markup)
    for node in tree.css("script, style, noscript, template, head"):
        node.decompose()
    root = tree.body or tree.root
    blocks: list[Block] = []
    if root is None:
        return blocks
    _collect(root, blocks)
    return blocks


_BLOCK_TAGS = {"p", "div", "section", "article", "li", "tr", "td", "blockquote", "h1", "h2", "h3",
               "h4", "h5", "h6", "ul", "ol", "table", "body", "main", "header", "footer", "figure",
               "figcaption", "center", "font", "pre"}
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _collect(root, blocks: list[Block]) -> None:
    """Walk the tree iteratively (deeply nested pages must not overflow the stack)."""
    pieces: list[str] = []
    bold_only = [True]

    def flush(heading: bool = False) -> None:
        text = html.unescape("".join(pieces))
        for line in text.split("\n"):
            line = re.sub(r"[ \t\u00a0]+", " ", line).strip()
            line = _MD_LINK.sub(r"\1", line)
            if line:
                blocks.append(Block(line, heading or bold_only[0]))
        pieces.clear()
        bold_only[0] = True

    stack: list[tuple[object, bool]] = [(root, False)]
    bold_depth = 0
    while stack:
        node, leaving = stack.pop()
        tag = node.tag
        if leaving:
            if tag in ("strong", "b"):
                bold_depth -= 1
            if tag in _BLOCK_TAGS:
                flush(tag in _HEADING_TAGS)
            continue
        if tag == "-text":
            value = node.text_content or ""
            if value.strip():
                if not bold_depth:
                    bold_only[0] = False
            pieces.append(value.replace("\n", " "))
            continue
        if tag in ("-comment", "script", "style"):
            continue
        if tag == "br":
            pieces.append("\n")
            continue
        if tag in _BLOCK_TAGS:
            flush()
        if tag in ("strong", "b"):
            bold_depth += 1
        stack.append((node, True))
        children = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        for child in reversed(children):
            stack.append((child, False))
    flush()


# ------------------------------------------------------------------------ corpora


#: A corpus is passed on in runs of whole lines of about this many bytes.
CORPUS_BLOCK = 2**17
#: A record (one line) longer than this is passed over unread, so one runaway line (a gzip that
#: expands to gigabytes) cannot take the memory; the largest news story is well under 1 MB.
MAX_RECORD = 16 * 2**20


def read_corpus(path: str, on_read: Callable[[int], None] = lambda size: None) -> Iterator[CorpusLines | ReadProblem]:
    """Stream a JSON Lines corpus: one article a line, never loaded whole.

    A line that is not UTF-8 or not a record is a problem of its own; the
    corpus goes on. A gzip file is checked whole first (its checksum is at its
    end): a damaged one is refused, as its text cannot be trusted anywhere; one
    cut short gives the whole lines before the cut and a problem naming the line.
    """
    source = shown_name(path)
    gzipped = path.lower().endswith(".gz")
    if gzipped:
        with _open_regular(path) as raw:
            damage = _gzip_damage(raw)
        if damage:
            raise ReadProblem(source, f"is a damaged gzip file ({damage}); nothing was read from it")
    with _open_regular(path) as raw, (gzip.GzipFile(fileobj=raw) if gzipped else raw) as handle:
        yield from _corpus_runs(source, _chunks(handle, CORPUS_BLOCK, on_read))


def _gzip_damage(raw: BinaryIO) -> str | None:
    """Why a gzip file's data is wrong (a bad checksum or bad deflate data), or None where it is
    intact or only cut short (the text before a cut is sound)."""
    try:
        with gzip.GzipFile(fileobj=raw) as handle:
            while handle.read1(2**20):
                pass
    except EOFError:
        return None
    except (OSError, zlib.error) as error:
        return str(error)
    return None


def _corpus_runs(source: str, chunks: Iterator[bytes]) -> Iterator[CorpusLines | ReadProblem]:
    """Runs of whole lines of a corpus; a line over ``MAX_RECORD`` is passed over with a problem,
    keeping its number, so the records after it keep theirs."""
    parts: list[bytes] = []  # read and not yet passed on, joined once per run (a line can be long)
    waiting = tail = 0  # bytes held, and of them those after the last line end
    lines = records = size = 0
    overlong: int | None = None  # the bytes so far of a record over the limit, being passed over
    while True:
        try:
            data, damage = next(chunks, b""), None
        except (OSError, EOFError, zlib.error) as error:
            data, damage = b"", error
        at_end = not data
        if size == 0 and data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
            size = len(codecs.BOM_UTF8)
        size += len(data)
        if overlong is not None:
            end = data.find(b"\n")
            overlong += len(data) if end < 0 else end
            if end < 0 and not at_end:
                continue
            lines, records = lines + 1, records + 1
            yield ReadProblem(source, f"line {lines}: a record of {overlong:,} bytes is over the limit of "
                                      f"{MAX_RECORD:,}; left out")
            overlong = None
            data = data[end + 1:] if end >= 0 else b""
        parts.append(data)
        waiting += len(data)
        newline = data.rfind(b"\n")
        tail = tail + len(data) if newline < 0 else len(data) - newline - 1
        over = tail > MAX_RECORD
        if not at_end and not over and (waiting < CORPUS_BLOCK or newline < 0):
            continue  # a run ends at the last line end of the read that fills it
        pending = b"".join(parts)
        cut = len(pending) if at_end and damage is None and not over else len(pending) - tail
        if cut:
            run = pending[:cut]
            yield CorpusLines(source, lines + 1, records, run)
            pieces = run.split(b"\n")
            lines += len(pieces) - 1
            records += sum(1 for line in pieces if line.strip())
        parts, waiting = ([], 0) if over else ([pending[cut:]], len(pending) - cut)
        if over:
            overlong, tail = tail, 0
            if not at_end:
                continue
            lines, records = lines + 1, records + 1
            yield ReadProblem(source, f"line {lines}: a record of {overlong:,} bytes is over the limit of "
                                      f"{MAX_RECORD:,}; left out")
        if damage is not None:
            raise ReadProblem(source, f"line {lines + 1}: file is damaged ({damage}); the lines before it were read")
        if at_end:
            break
    if size == 0:
        raise ReadProblem(source, "file is empty")


def _corpus_record(line: bytes, path: str, line_number: int, record_number: int) -> RawDocument:
    import orjson

    try:
        record = orjson.loads(line)
        checked = True
    except orjson.JSONDecodeError:  # orjson is strict: the json module says what is wrong, or reads it
        record, checked = _json_record(line, path, line_number), False
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ReadProblem(path, f"line {line_number}: a record needs a \"text\" string")
    title = str(record["title"]) if record.get("title") else None
    date = str(record["date"]) if record.get("date") else None
    record_id = str(record["id"]) if record.get("id") is not None else None
    if not checked and not all(_is_text(value) for value in (record["text"], title, date, record_id)):
        raise ReadProblem(path, f"line {line_number}: holds a lone surrogate escape (such as \\ud800), "
                                "which is half a character, not text")
    # Each line is a block, as in a text file: corpora put one paragraph per line
    # (some with blank lines between, some without); hard wraps are joined later.
    blocks = [Block(line.strip()) for line in record["text"].splitlines() if line.strip()]
    return RawDocument(source=path, blocks=blocks, title=title, date=date, record_id=record_id,
                       single_article=True, first_article=record_number, line=line_number)


def _is_text(value: str | None) -> bool:
    """Whether a string is text UTF-8 can hold: the json module reads a lone surrogate escape."""
    if value is None or value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _json_record(line: bytes, path: str, line_number: int):
    try:
        return json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        raise ReadProblem(path, f"line {line_number}: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise ReadProblem(path, f"line {line_number}: not a JSON object ({error.msg})") from None
    except RecursionError:
        raise ReadProblem(path, f"line {line_number}: nested too deeply to be a record") from None
