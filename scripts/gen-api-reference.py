#!/usr/bin/env python3
"""Generates docs/api-reference.md from include/fastflow.h.

The header is the one source of the API reference: this script copies its
comments and declarations into Markdown and adds nothing of its own beyond
headings, an index and links. To change the reference, edit the header's
comments and rerun:

    python3 scripts/gen-api-reference.py            # rewrite docs/api-reference.md
    python3 scripts/gen-api-reference.py --check    # exit 1 when the file is stale

How the header is read (plain Python, no C parser needed):
  - a banner (a comment of dashes, a one-line title comment, a comment of
    dashes) starts a section;
  - a comment followed directly by a declaration (no blank line between)
    documents that declaration; consecutive FF_API prototypes under one
    comment form a group that shares it;
  - a comment followed by a blank line is text of the current section;
  - `FF_EXPERIMENTAL` before `FF_API` marks the experimental tier,
    `FF_DEPRECATED("msg")` a deprecated function, `/* since 0.N */` the
    version that added it (docs/versioning.md).
Every FF_API function must have a doc comment; the script fails otherwise.
"""

import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "include", "fastflow.h")
OUT = os.path.join(ROOT, "docs", "api-reference.md")
REGEN = "python3 scripts/gen-api-reference.py"

INTRO = """\
<!-- Generated from include/fastflow.h by {regen}; do not edit.
     Edit the header's comments and rerun the script (the docs-api-reference test fails when this
     file is stale). -->
# API reference

Every public declaration of `include/fastflow.h` (libfastflow {version}), with the header's own
comments, section by section. The rules common to every function (status codes, the thread-local
error message, outputs untouched on failure, ownership, threads, buffers) are in
[api-conventions.md](api-conventions.md) and at the top of the header, reproduced below; versions,
the ABI and the stability tiers in [versioning.md](versioning.md).

Functions are **stable** unless marked **experimental** (`FF_EXPERIMENTAL`: may change in a minor
release, [tiers](versioning.md#stability-tiers)) or **deprecated** (`FF_DEPRECATED`).
"""


class Item:
    def __init__(self, kind, text, doc=None):
        self.kind = kind  # 'text', 'functions', 'enum', 'typedef', 'macro'
        self.text = text  # raw source of the declaration(s)
        self.doc = doc    # comment text (cleaned) or None
        self.names = []


def clean_comment(raw):
    """The text of a /* */ comment without its delimiters and ' * ' prefixes."""
    body = raw[2:-2]
    lines = body.split("\n")
    out = []
    for i, line in enumerate(lines):
        s = line.rstrip()
        if i > 0:
            s = re.sub(r"^\s*\*( |$)", "", s)
        else:
            s = s.lstrip()
        out.append(s)
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def tokens(src):
    """Yields (kind, text, blank_after) for comments, preprocessor lines and
    declarations; blank_after tells whether an empty line follows."""
    i, n = 0, len(src)
    while i < n:
        if src[i].isspace():
            i += 1
            continue
        if src.startswith("/*", i):
            j = src.index("*/", i) + 2
            kind, text = "comment", src[i:j]
        elif src[i] == "#":
            j = src.find("\n", i)
            j = n if j < 0 else j
            while src[j - 1] == "\\":
                j = src.find("\n", j + 1)
            kind, text = "pp", src[i:j]
        elif src.startswith("//", i):
            j = src.find("\n", i)
            kind, text = "linecomment", src[i:j]
        elif src[i] == "}":  # the end of extern "C"
            j = i + 1
            kind, text = "pp", "}"
        elif src.startswith('extern "C"', i):
            j = src.index("{", i) + 1
            kind, text = "pp", src[i:j]
        else:
            depth, j = 0, i
            while j < n:
                if src.startswith("/*", j):
                    j = src.index("*/", j) + 2
                    continue
                c = src[j]
                if c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                elif c == ";" and depth == 0:
                    j += 1
                    break
                j += 1
            kind, text = "decl", src[i:j]
            # a trailing comment on the same line belongs to the declaration
            m = re.match(r"[ \t]*/\*.*?\*/", src[j:])
            if m and "\n" not in m.group(0):
                text += m.group(0)
                j += m.end()
        k = j
        while k < n and src[k] in " \t":
            k += 1
        blank = bool(re.match(r"\n[ \t]*\n", src[k:k + 64]))
        yield kind, text, blank
        i = j


def parse(path):
    with open(path) as f:
        src = f.read()
    version = re.search(r'#define FF_VERSION_STRING "([^"]+)"', src).group(1)
    sections = []  # (title, [items])
    preamble = Item("text", "", clean_comment(re.match(r"\s*(/\*.*?\*/)", src, re.S).group(1)))
    sections.append(("Overview", [preamble]))
    toks = list(tokens(src))
    pending = None  # (doc, blank_after)
    skip_first = True
    i = 0
    last_decl_item = None
    while i < len(toks):
        kind, text, blank = toks[i]
        if kind == "comment" and skip_first:
            skip_first = False  # the file comment, already the overview
            i += 1
            continue
        if kind == "comment" and re.fullmatch(r"/\*\s*-{8,}\s*\*/", text):
            # banner: dashes, title, dashes
            title = clean_comment(toks[i + 1][1]).strip()
            sections.append((title, []))
            pending = None
            last_decl_item = None
            i += 3
            continue
        if kind == "comment":
            if pending is not None:
                sections[-1][1].append(Item("text", "", pending))
            doc = clean_comment(text)
            if blank:
                sections[-1][1].append(Item("text", "", doc))
                pending = None
            else:
                pending = doc
            last_decl_item = None
            i += 1
            continue
        if kind == "pp":
            if pending is not None:
                # a documented preprocessor block: every line up to the next
                # comment or declaration (#if chains shown whole)
                block = [text]
                names = re.findall(r"#define\s+(\w+)", text)
                while i + 1 < len(toks) and toks[i + 1][0] == "pp" and not toks[i][2]:
                    i += 1
                    block.append(toks[i][1])
                    names += re.findall(r"#define\s+(\w+)", toks[i][1])
                item = Item("macro", "\n".join(block), pending)
                item.names = list(dict.fromkeys(names))
                sections[-1][1].append(item)
                pending = None
            i += 1
            continue
        if kind == "linecomment":
            i += 1
            continue
        # a declaration
        decl = text.strip()
        if decl.startswith('extern "C"') or decl == "}":
            i += 1
            continue
        if "FF_API" in decl:
            name = re.search(r"\b(ff_\w+)\s*\(", decl).group(1)
            if pending is None and last_decl_item is not None and last_decl_item.kind == "functions":
                last_decl_item.text += "\n" + decl
                last_decl_item.names.append(name)
            else:
                item = Item("functions", decl, pending)
                item.names.append(name)
                sections[-1][1].append(item)
                last_decl_item = item
        elif decl.startswith("enum"):
            item = Item("enum", decl, pending)
            item.names.append(re.match(r"enum\s+(\w+)", decl).group(1))
            sections[-1][1].append(item)
            last_decl_item = item
        elif decl.startswith("typedef"):
            item = Item("typedef", decl, pending)
            item.names.append(re.search(r"(\w+)\s*;\s*(/\*.*)?$", decl, re.S).group(1))
            sections[-1][1].append(item)
            last_decl_item = item
        else:
            raise SystemExit("%s: cannot classify declaration: %s" % (path, decl[:80]))
        pending = None
        if blank:
            last_decl_item = None
        i += 1
    return version, sections


def slug(title):
    s = title.lower().strip()
    s = re.sub(r"[^a-z0-9 _-]", "", s)
    return s.replace(" ", "-")


def inline(text, known):
    """Markdown for comment text: identifiers in backticks (linked when they
    are documented here), '*' escaped outside code."""
    parts = text.split("`")
    for k in range(0, len(parts), 2):  # outside existing `code`
        seg = parts[k]
        seg = seg.replace("*", "\\*")

        def ident(m):
            w = m.group(0).replace("\\*", "*")
            base = w[:-2] if w.endswith("()") else w
            if base in known:
                return "[`%s`](#%s)" % (w, known[base])
            if w in known:
                return "[`%s`](#%s)" % (w, known[w])
            return "`%s`" % w
        seg = re.sub(r"(?<![\w`])(?:ff_|FF_)\w+(?:/_\w+)?(?:\(\)|\\\*)?", ident, seg)
        parts[k] = seg
    return "`".join(parts)


def render_doc(doc, known):
    """Comment text to Markdown, keeping the header's line structure: bullet
    lines stay list items, indented lines (formulas) become code."""
    out = []
    in_code = False
    for line in doc.split("\n"):
        if re.match(r"^ {2,}\S", line) and not re.match(r"^\s*- ", line) and not (out and re.match(r"^\s*- ", out[-1] if not in_code else "")):
            stripped = line.strip()
            # continuation of a bullet: keep as text
            if out and not in_code and (out[-1].lstrip().startswith("- ") or out[-1].startswith("  ")):
                out.append("  " + inline(stripped, known))
                continue
            if not in_code:
                out.append("```")
                in_code = True
            out.append(stripped)
            continue
        if in_code:
            out.append("```")
            in_code = False
        m = re.match(r"^\s*- (.*)", line)
        if m:
            if out and out[-1].strip() and not out[-1].lstrip().startswith("- ") and not out[-1].startswith("  "):
                out.append("")
            out.append("- " + inline(m.group(1), known))
        elif not line.strip():
            out.append("")
        else:
            if out and (out[-1].lstrip().startswith("- ") or out[-1].startswith("  ")) and line.startswith(" "):
                out.append("  " + inline(line.strip(), known))
            else:
                if out and (out[-1].lstrip().startswith("- ") or out[-1].startswith("  ")):
                    out.append("")
                out.append(inline(line, known))
    if in_code:
        out.append("```")
    return "\n".join(out)


def enum_table(text, known):
    """The enumerators of an enum as a table: key, value, and the comment
    before or after each (the header's wording, on one line)."""
    body = text[text.index("{") + 1:text.rindex("}")]
    rows, pending = [], []
    pos = 0
    token = re.compile(r"/\*(.*?)\*/|\b(FF_\w+)\s*=\s*([^,}/\n]+)", re.S)
    last = None
    for m in token.finditer(body):
        between = body[pos:m.start()]
        pos = m.end()
        if m.group(1) is not None:
            words = " ".join(line.strip().lstrip("*").strip() for line in m.group(1).split("\n")).strip()
            # a comment on the enumerator's own line (after its comma) is its
            # trailing comment; otherwise it documents the next enumerator
            if last is not None and "\n" not in between:
                if last[3]:
                    # it had a comment before it too: that one heads a group
                    rows.insert(rows.index(last), ["", "", last[2], False])
                    last[2], last[3] = "", False
                last[2] = (last[2] + " " + words).strip()
            else:
                pending.append(words)
            continue
        last = [m.group(2), m.group(3).strip(), " ".join(pending), bool(pending)]
        pending = []
        rows.append(last)
    out = ["| key | value | meaning |", "|---|---|---|"]
    for key, value, doc, _ in rows:
        if not key:  # a group heading
            out.append("| | | *%s* |" % inline(doc, known).replace("|", "\\|"))
            continue
        out.append("| `%s` | %s | %s |" % (key, value, inline(doc, known).replace("|", "\\|")))
    return "\n".join(out)


def prototype(decl):
    """A declaration as shown: without FF_API and the tier markers."""
    d = re.sub(r"\bFF_EXPERIMENTAL\s*", "", decl)
    d = re.sub(r'\bFF_DEPRECATED\("(?:[^"\\]|\\.)*"\)\s*', "", d)
    d = re.sub(r"\bFF_API\s+", "", d)
    lines = d.split("\n")
    # re-indent continuation lines under the opening parenthesis
    fixed = []
    for line in lines:
        if fixed and line.startswith(" ") and "(" in fixed[-1] and not fixed[-1].rstrip().endswith(";"):
            col = fixed[-1].index("(") + 1
            fixed.append(" " * col + line.strip())
        else:
            fixed.append(line)
    return "\n".join(fixed)


def generate(header=HEADER):
    version, sections = parse(header)
    # anchors for every name
    known, missing = {}, []
    index = []
    for title, items in sections:
        for it in items:
            for name in it.names:
                if it.kind == "functions":
                    known[name] = slug(name)
                elif it.kind == "enum":
                    known[name] = slug("enum " + name)
                    for e in re.findall(r"\b(FF_\w+)\s*=", it.text):
                        known[e] = slug("enum " + name)
            if it.kind == "functions":
                for name in it.names:
                    index.append((name, title, it))
                if not it.doc:
                    missing.extend(it.names)
    if missing:
        raise SystemExit("%s: functions without a doc comment: %s" % (header, ", ".join(missing)))
    md = [INTRO.format(regen=REGEN, version=version)]
    md.append("Contents: " + " · ".join("[%s](#%s)" % (t.lower() if i else t, slug(t))
                                         for i, (t, _) in enumerate(sections)) + " · [index](#index)\n")
    for title, items in sections:
        md.append("## %s\n" % title)
        for it in items:
            if it.kind == "text":
                md.append(render_doc(it.doc, known) + "\n")
            elif it.kind == "macro":
                md.append(render_doc(it.doc, known) + "\n")
                md.append("```c\n%s\n```\n" % it.text)
            elif it.kind == "typedef":
                md.append("### `%s`\n" % it.names[0])
                md.append("```c\n%s\n```\n" % re.sub(r"\s*/\*.*\*/\s*$", "", it.text, flags=re.S))
                if it.doc:
                    md.append(render_doc(it.doc, known) + "\n")
                trailing = re.search(r"/\*(.*)\*/\s*$", it.text, re.S)
                if trailing:
                    md.append(render_doc(trailing.group(1).strip(), known) + "\n")
            elif it.kind == "enum":
                md.append("### `enum %s`\n" % it.names[0])
                if it.doc:
                    md.append(render_doc(it.doc, known) + "\n")
                md.append(enum_table(it.text, known) + "\n")
            elif it.kind == "functions":
                for name in it.names:
                    md.append("### `%s`" % name)
                md.append("")
                tags = []
                if "FF_EXPERIMENTAL" in it.text:
                    tags.append("**Experimental** ([tiers](versioning.md#stability-tiers)): may change in a minor release.")
                for msg in re.findall(r'FF_DEPRECATED\("((?:[^"\\]|\\.)*)"\)', it.text):
                    tags.append("**Deprecated**: %s." % msg)
                md.append("```c\n%s\n```\n" % prototype(it.text))
                if tags:
                    md.append(" ".join(tags) + "\n")
                md.append(render_doc(it.doc, known) + "\n")
    md.append("## Index\n")
    md.append("| function | section | tier |\n|---|---|---|")
    for name, title, it in sorted(index):
        tier = "experimental" if "FF_EXPERIMENTAL" in it.text else "stable"
        if "FF_DEPRECATED" in it.text:
            tier += ", deprecated"
        md.append("| [`%s`](#%s) | %s | %s |" % (name, slug(name), title, tier))
    text = "\n".join(md).rstrip("\n") + "\n"
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when the reference is stale")
    ap.add_argument("--header", default=HEADER)
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    text = generate(args.header)
    if args.check:
        try:
            with open(args.out) as f:
                current = f.read()
        except OSError:
            current = None
        if current != text:
            print("%s is stale: it differs from what include/fastflow.h generates." % args.out)
            print("Edit the header's comments, not the reference, then run: %s" % REGEN)
            if current is not None:
                import difflib
                diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(),
                                                 "committed", "generated", lineterm="", n=1))
                print("\n".join(diff[:60]))
                if len(diff) > 60:
                    print("... (%d more diff lines)" % (len(diff) - 60))
            print("0 passed, 1 failed")
            return 1
        n = len(re.findall(r"^### `ff_", text, re.M))
        print("%s is up to date (%d function entries)" % (args.out, n))
        print("1 passed, 0 failed")
        return 0
    with open(args.out, "w") as f:
        f.write(text)
    print("wrote %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
