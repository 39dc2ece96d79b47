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
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

#: Files with these endings are read; anything else in a folder is passed over.
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
CORPUS_SUFFIXES = (".jsonl", ".jsonl.gz")


class ReadProblem(Exception):
    """An input that cannot be read; the message names the file and the reason."""

    def __init__(self, source: str, reason: str):
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
    record_id: str | None = None
    #: JSONL records are one article each and are never split at headlines.
    single_article: bool = False
    #: The number of the document's first article within its file: a record's position in its corpus.
    first_article: int = 0
    #: A later piece of a file read in pieces: its articles are numbered on from those of the
    #: pieces before, which only the reader, taking the pieces' results in order, can count.
    continued: bool = False


# --------------------------------------------------------------------------- files


#: A folder's own documentation (README.md, the labels' ANNOTATION.md guide), not its articles: skipped
#: when the folder is walked, read when named on the command line.
FOLDER_DOCUMENTATION = frozenset({"README", "ANNOTATION", "LICENSE", "CHANGELOG"})


def find_inputs(paths: list[str]) -> Iterator[str | ReadProblem]:
    """Expand the command-line paths into files, in a stable (sorted) order.

    Folders are walked recursively without following symbolic links into a loop;
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


def _walk(folder: Path) -> Iterator[str | ReadProblem]:
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
            yield ReadProblem(str(current), "folder link loops back to a folder already read")
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
            if is_dir:
                subfolders.append(Path(entry.path))
            elif entry.name.lower().endswith(TEXT_SUFFIXES + CORPUS_SUFFIXES) \
                    and entry.name.split(".")[0] not in FOLDER_DOCUMENTATION:
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


def read_documents(paths: list[str], on_read: Callable[[int], None] = lambda size: None
                   ) -> Iterator[RawDocument | CorpusLines | ReadProblem]:
    """Every raw document of every input (corpus lines still to parse), or a problem for an input that failed.

    ``on_read`` is told, as reading goes, how many bytes of the input files it
    has taken in (standard input aside): progress out of ``input_size``.
    """
    for item in find_inputs(paths):
        if isinstance(item, ReadProblem):
            yield item
            continue
        try:
            yield from read_file(item, on_read)
        except ReadProblem as problem:
            yield problem


def input_size(paths: list[str]) -> int:
    """The bytes of every file that reading ``paths`` reads, standard input aside."""
    return sum(_size(item) for item in find_inputs(paths) if isinstance(item, str) and item != "-")


#: Files larger than this are decoded as a stream and parsed in pieces, so memory stays bounded.
LARGE_FILE = 8 * 2**20
#: The size of those pieces, in characters; each is cut at a blank line (else a line end).
PIECE = 2**20


def read_file(path: str, on_read: Callable[[int], None] = lambda size: None
              ) -> Iterator[RawDocument | CorpusLines | ReadProblem]:
    name = path.lower()
    if name.endswith(CORPUS_SUFFIXES):
        yield from read_corpus(path, on_read)
        return
    if path != "-" and _size(path) > LARGE_FILE:
        yield from _read_large(path, on_read)
        return
    data = _read_bytes(path)
    if path != "-":
        on_read(len(data))
    text = decode(data, path)
    if not text.strip():
        raise ReadProblem(path, "file is empty" if not data else "file holds only blank space")
    yield parse_text(text, path)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # reading it will say what is wrong


def _read_large(path: str, on_read: Callable[[int], None]) -> Iterator[RawDocument | ReadProblem]:
    """A text file too large to hold at once: decoded incrementally, parsed piece by piece.

    An article that straddles two pieces is split in two; pieces are cut at
    blank lines to make that rare. Undecodable bytes end the file with a
    problem that says where; the text before them is kept.
    """
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise ReadProblem(path, f"cannot read ({error.strerror})") from None
    with handle:
        head = handle.read(65536)
        decoder = codecs.getincrementaldecoder(detect_encoding(head, path))()
        pending = ""
        chunk, offset, first = head, 0, True
        while True:
            try:
                pending += decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                yield ReadProblem(path, f"undecodable bytes near byte {offset + error.start:,}; "
                                        "the text before them was read")
                chunk = b""
            offset += len(chunk)
            on_read(len(chunk))
            while len(pending) > PIECE or (not chunk and pending.strip()):
                cut = len(pending) if not chunk else _piece_end(pending)
                piece, pending = pending[:cut], pending[cut:]
                if piece.strip():
                    document = parse_text(piece, path)
                    if not first:
                        document.title = document.date = None
                        document.continued = True
                    first = False
                    yield document
            if not chunk:
                return
            chunk = handle.read(PIECE)


def _piece_end(text: str) -> int:
    """Where to cut a piece: after the last blank line in it, else the last line end."""
    for separator in ("\n\n", "\n"):
        cut = text.rfind(separator, 0, PIECE)
        if cut > 0:
            return cut + len(separator)
    return PIECE


def _read_bytes(path: str) -> bytes:
    try:
        if path == "-":
            return sys.stdin.buffer.read()
        with open(path, "rb") as handle:
            return handle.read()
    except IsADirectoryError:
        raise ReadProblem(path, "is a folder") from None
    except PermissionError:
        raise ReadProblem(path, "permission denied") from None
    except OSError as error:
        raise ReadProblem(path, f"cannot read ({error.strerror})") from None


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
    """Detect the encoding (BOM, UTF-8, UTF-16 without BOM, GB18030) and decode.

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
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise ReadProblem(source, "is in no supported encoding (UTF-8, UTF-16, GB18030/GBK)") from None
    if not _looks_like_text(text):
        raise ReadProblem(source, "is in no supported encoding (UTF-8, UTF-16, GB18030/GBK)")
    return text, "gb18030"


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
    title = date = None
    front = _FRONT_MATTER.match(text)
    if front:
        meta = _front_matter(front.group(1))
        title, date = meta.get("title"), meta.get("date")
        text = text[front.end():]
    if _HTML_HINT.search(text[:200000]) or source.lower().endswith((".html", ".htm")):
        blocks = html_blocks(text)
    else:
        blocks = markdown_blocks(text)
    return RawDocument(source=source, blocks=blocks, title=title, date=date)


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


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")


def markdown_blocks(text: str) -> list[Block]:
    """Lines of plain text or Markdown; headings and bold-only lines are marked."""
    blocks = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
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


def read_corpus(path: str, on_read: Callable[[int], None] = lambda size: None) -> Iterator[CorpusLines | ReadProblem]:
    """Stream a JSON Lines corpus: one article a line, never loaded whole.

    A line that is not UTF-8 or not a record is a problem of its own; the
    corpus goes on. A damaged file ends with a problem that says where; the
    whole lines before the damage are read.
    """
    try:
        raw = open(path, "rb")
    except PermissionError:
        raise ReadProblem(path, "permission denied") from None
    except OSError as error:
        raise ReadProblem(path, f"cannot read ({error.strerror})") from None
    with raw, (gzip.GzipFile(fileobj=raw) if path.lower().endswith(".gz") else raw) as handle:
        parts: list[bytes] = []  # read and not yet passed on, joined once per run (a line can be long)
        waiting = lines = records = size = taken = 0
        while True:
            try:  # read1: what one read gave is kept even when the next finds damage
                data = handle.read1(CORPUS_BLOCK)
            except (OSError, EOFError) as error:
                data, damage = b"", error
            else:
                damage = None
            if size == 0 and data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8):]
                size = len(codecs.BOM_UTF8)
            size += len(data)
            parts.append(data)
            waiting += len(data)
            if data and (waiting < CORPUS_BLOCK or b"\n" not in data):
                continue  # a run ends at the last line end of the read that fills it
            pending = b"".join(parts)
            cut = pending.rfind(b"\n") + 1 if data or damage else len(pending)
            on_read(raw.tell() - taken)
            taken = raw.tell()
            if cut:
                run = pending[:cut]
                yield CorpusLines(path, lines + 1, records, run)
                pieces = run.split(b"\n")
                lines += len(pieces) - 1
                records += sum(1 for line in pieces if line.strip())
            parts, waiting = [pending[cut:]], len(pending) - cut
            if damage is not None:
                raise ReadProblem(path, f"line {lines + 1}: file is damaged ({damage})")
            if not data:
                break
        if size == 0:
            raise ReadProblem(path, "file is empty")


def _corpus_record(line: bytes, path: str, line_number: int, record_number: int) -> RawDocument:
    import orjson

    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:  # orjson is strict: the json module says what is wrong, or reads it
        record = _json_record(line, path, line_number)
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ReadProblem(path, f"line {line_number}: a record needs a \"text\" string")
    # Each line is a block, as in a text file: corpora put one paragraph per line
    # (some with blank lines between, some without); hard wraps are joined later.
    blocks = [Block(line.strip()) for line in record["text"].splitlines() if line.strip()]
    title = record.get("title")
    return RawDocument(
        source=path,
        blocks=blocks,
        title=str(title) if title else None,
        date=str(record["date"]) if record.get("date") else None,
        record_id=str(record["id"]) if record.get("id") is not None else None,
        single_article=True,
        first_article=record_number,
    )


def _json_record(line: bytes, path: str, line_number: int):
    try:
        return json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        raise ReadProblem(path, f"line {line_number}: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise ReadProblem(path, f"line {line_number}: not a JSON object ({error.msg})") from None
