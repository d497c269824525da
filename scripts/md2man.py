#!/usr/bin/env python3
"""Turns mbxkit's Markdown pages into roff man(7) pages (Python 3 standard library only).

    md2man.py page docs/commands/quota.md OUT.1 [--version V] [--see-also NAME...]
    md2man.py overview README.md DOCS_COMMANDS_DIR OUT.1 [--version V]

`page`: docs/commands/NAME.md -> mbx-NAME(1). The H1 "# mbx quota - what it does" becomes NAME,
the first code block right after it SYNOPSIS, the text up to the first "##" DESCRIPTION, then
OPTIONS from the built tool (--tool mbx-COMMAND [--subcommand SUB]: its hidden --list-options,
the options --help shows), every "##" a section (.SH, upper case) and "###"/"####" a subsection (.SS). Tables become tagged
paragraphs (.TP: the first cell is the tag, the other cells the body), so that they read well at
any width without tbl. SEE ALSO lists mbx(1), the sibling pages (quota: quota-cleanup,
quota-raise), the command pages this page links to and the --see-also names.

`overview`: mbx(1), from README.md's "## Commands" table (one entry per row) and the pages in
docs/commands/ (SEE ALSO).

The Markdown understood is the project's: ATX headings, paragraphs, "-"/"*" and "1." lists
(nested by indentation), fenced and indented code, pipe tables, block quotes, and inline `code`,
**bold**, *emphasis*/_emphasis_ and [links](target). Everything roff would read as a request or
an escape is escaped: backslashes, a leading "." or "'", hyphens (as \\-), non-ASCII characters
(as \\[uXXXX]).
"""

import argparse
import os
import re
import sys

# --- escaping ---------------------------------------------------------------------------------


def esc_chars(text):
    """Escapes plain text for roff (not at line start: see line())."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\e")
        elif ch == "-":
            out.append("\\-")
        elif ch == "\t":
            out.append("    ")
        elif ord(ch) > 126:
            out.append("\\[u%04X]" % ord(ch) if ord(ch) <= 0xFFFF else "\\[u%X]" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def line(text):
    """A text line that roff does not take for a request (leading . or ')."""
    if text.startswith(".") or text.startswith("'"):
        return "\\&" + text
    return text


LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
CODE = re.compile(r"(`+)(.+?)\1")
BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
EMPH = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])|(?<![\w])_(?!\s)(.+?)(?<!\s)_(?!\w)")


def command_page_of(target):
    """mbx-NAME for a link to a command page (quota.md, ../commands/quota.md), else None."""
    target = target.split("#", 1)[0]
    m = re.fullmatch(r"(?:\.\./commands/|commands/|docs/commands/|\./)?([a-z0-9-]+)\.md", target)
    if m and os.path.basename(os.path.dirname(target) or "commands") in ("commands", ".", ""):
        return "mbx-" + m.group(1)
    return None


def inline(text, links=None):
    """Inline Markdown -> roff escapes. `links` collects the command pages linked to."""
    # Split out code spans first: nothing inside them is markup.
    parts = []
    pos = 0
    for m in CODE.finditer(text):
        parts.append(("text", text[pos : m.start()]))
        parts.append(("code", m.group(2).strip() if m.group(2).strip() else m.group(2)))
        pos = m.end()
    parts.append(("text", text[pos:]))
    out = []
    for kind, chunk in parts:
        if kind == "code":
            out.append("\\fB" + esc_chars(chunk) + "\\fR")
            continue
        out.append(inline_text(chunk, links))
    return "".join(out)


def inline_text(chunk, links):
    def link(m):
        label, target = m.group(1), m.group(2)
        page = command_page_of(target)
        if page and links is not None:
            links.append(page)
        if target.startswith(("http://", "https://", "mailto:")):
            return "\x01L" + label + "\x01R <" + target + ">" if label != target else target
        if page:
            return label + " (" + page + "(1))" if label != page else page + "(1)"
        return label

    chunk = LINK.sub(link, chunk)
    chunk = esc_chars(chunk)
    chunk = BOLD.sub(lambda m: "\\fB" + (m.group(1) or m.group(2)) + "\\fR", chunk)
    chunk = EMPH.sub(lambda m: "\\fI" + (m.group(1) or m.group(2)) + "\\fR", chunk)
    return chunk.replace("\x01L", "").replace("\x01R", "")


def plain(text):
    """Inline Markdown stripped to its words (for NAME and headings)."""
    text = LINK.sub(lambda m: m.group(1), text)
    text = CODE.sub(lambda m: m.group(2), text)
    text = BOLD.sub(lambda m: m.group(1) or m.group(2), text)
    return text


# --- block parsing ----------------------------------------------------------------------------

LIST_ITEM = re.compile(r"^( *)([-*+]|\d+[.)]) +(.*)$")
FENCE = re.compile(r"^( *)(```+|~~~+)(.*)$")
HEADING = re.compile(r"^(#{1,6}) +(.*?)(?: +#+)?$")
TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def indent_of(s):
    return len(s) - len(s.lstrip(" "))


def split_row(row):
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    cells, cur, in_code = [], "", False
    i = 0
    while i < len(row):
        c = row[i]
        if c == "\\" and i + 1 < len(row) and row[i + 1] == "|":
            cur += "|"
            i += 2
            continue
        if c == "`":
            in_code = not in_code
        if c == "|" and not in_code:
            cells.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    cells.append(cur.strip())
    return cells


class Writer:
    def __init__(self):
        self.lines = []
        self.links = []

    def req(self, r):
        self.lines.append(r)

    def text(self, t):
        self.lines.append(line(t))

    def para(self, text_lines):
        words = " ".join(l.strip() for l in text_lines)
        # A hard break ("  " at the end or a trailing backslash) is rare here: join them all.
        self.text(inline(words, self.links))


def parse_blocks(lines, w, base_indent=0):
    """Writes the blocks of `lines` (already de-indented by base_indent)."""
    i = 0
    n = len(lines)
    need_pp = False
    while i < n:
        raw = lines[i]
        s = raw.rstrip("\n")
        if not s.strip():
            need_pp = True
            i += 1
            continue
        m = FENCE.match(s)
        if m:
            fence_indent, fence = len(m.group(1)), m.group(2)
            body = []
            i += 1
            while i < n and not lines[i].strip().startswith(fence[:3]):
                body.append(lines[i][fence_indent:] if indent_of(lines[i]) >= fence_indent else lines[i].lstrip(" "))
                i += 1
            i += 1  # the closing fence
            write_code(w, body)
            need_pp = True
            continue
        if indent_of(s) >= 4:
            body = []
            while i < n and (indent_of(lines[i]) >= 4 or not lines[i].strip()):
                body.append(lines[i][4:])
                i += 1
            while body and not body[-1].strip():
                body.pop()
            write_code(w, body)
            need_pp = True
            continue
        m = HEADING.match(s)
        if m:
            level, title = len(m.group(1)), m.group(2)
            if level <= 2:
                w.req(".SH " + quote_arg(esc_chars(plain(title)).upper()))
            else:
                w.req(".SS " + quote_arg(esc_chars(plain(title))))
            need_pp = False
            i += 1
            continue
        if s.lstrip().startswith("|") and i + 1 < n and TABLE_SEP.match(lines[i + 1]):
            header = split_row(s)
            i += 2
            rows = []
            while i < n and lines[i].strip().startswith("|"):
                rows.append(split_row(lines[i]))
                i += 1
            write_table(w, header, rows)
            need_pp = True
            continue
        if LIST_ITEM.match(s):
            i = write_list(lines, i, w)
            need_pp = True
            continue
        if s.lstrip().startswith(">"):
            quoted = []
            while i < n and lines[i].lstrip().startswith(">"):
                quoted.append(re.sub(r"^\s*> ?", "", lines[i]))
                i += 1
            w.req(".RS 4")
            parse_blocks(quoted, w)
            w.req(".RE")
            need_pp = True
            continue
        # A paragraph: up to a blank line or the start of another block.
        para = []
        while i < n and lines[i].strip():
            t = lines[i]
            if para and (FENCE.match(t) or HEADING.match(t) or LIST_ITEM.match(t) or t.lstrip().startswith("|")):
                break
            para.append(t)
            i += 1
        if need_pp and w.lines and not w.lines[-1].startswith((".SH", ".SS", ".TP", ".IP")):
            w.req(".PP")
        w.para(para)
        need_pp = False


def quote_arg(a):
    return '"' + a.replace('"', '\\(dq') + '"'


def write_code(w, body):
    w.req(".PP")
    w.req(".RS 4")
    w.req(".nf")
    for b in body:
        w.text(esc_chars(b.rstrip()))
    w.req(".fi")
    w.req(".RE")


def write_table(w, header, rows):
    """A table as tagged paragraphs: first cell the tag, the other cells (named by their
    header when there are more than one) the body."""
    w.req(".PP")
    for row in rows:
        row = row + [""] * (len(header) - len(row))
        w.req(".TP")
        w.text(inline(row[0], w.links) or "\\&")
        rest = [(h, c) for h, c in zip(header[1:], row[1:]) if c.strip()]
        for k, (h, c) in enumerate(rest):
            if k:
                w.req(".br")
            if len(header) > 2 and h.strip():
                w.text("\\fI" + esc_chars(plain(h)) + ":\\fR " + inline(c, w.links))
            else:
                w.text(inline(c, w.links))


def write_list(lines, i, w):
    """A list starting at lines[i]; returns the index after it. Nested content (continuation
    lines, sublists, code) is parsed recursively, inside .RS/.RE."""
    n = len(lines)
    first = LIST_ITEM.match(lines[i])
    list_indent = len(first.group(1))
    ordered = first.group(2)[0].isdigit()
    while i < n:
        m = LIST_ITEM.match(lines[i])
        if not m or len(m.group(1)) != list_indent:
            break
        marker = m.group(2)
        content_indent = len(m.group(1)) + len(marker) + 1
        item = [" " * content_indent + m.group(3)]
        i += 1
        while i < n:
            t = lines[i]
            if not t.strip():
                # A blank line ends the item unless the next line is indented under it.
                j = i
                while j < n and not lines[j].strip():
                    j += 1
                if j < n and indent_of(lines[j]) > list_indent:
                    item.extend(lines[i:j])
                    i = j
                    continue
                break
            mm = LIST_ITEM.match(t)
            if mm and len(mm.group(1)) <= list_indent:
                break
            if indent_of(t) <= list_indent and not mm and (HEADING.match(t) or FENCE.match(t) or t.lstrip().startswith("|")):
                break
            item.append(t)
            i += 1
        tag = marker if ordered else "\\(bu"
        w.req(".IP " + quote_arg(tag) + (" 4" if ordered else " 2"))
        # De-indent the item to its content column (lazy continuation lines stay as they are).
        body = []
        for t in item:
            cut = min(indent_of(t), content_indent)
            body.append(t[cut:])
        write_item(w, body)
        if i < n and not lines[i].strip():
            # A blank line between items of the same list: skip it.
            j = i
            while j < n and not lines[j].strip():
                j += 1
            m2 = LIST_ITEM.match(lines[j]) if j < n else None
            if m2 and len(m2.group(1)) == list_indent:
                i = j
    return i


def write_item(w, body):
    # The first paragraph goes right after .IP; later blocks (sublists, code) nest in .RS.
    k = 0
    first = []
    while k < len(body) and body[k].strip() and not (
        (k and LIST_ITEM.match(body[k])) or FENCE.match(body[k]) or (indent_of(body[k]) >= 4 and k)
    ):
        first.append(body[k])
        k += 1
    if first:
        w.para(first)
    rest = body[k:]
    if any(r.strip() for r in rest):
        w.req(".RS")
        parse_blocks(rest, w)
        w.req(".RE")


# --- OPTIONS, from the tool ---------------------------------------------------------------------

GROUPS = [("own", None), ("users", "Users"), ("common", "Common options"), ("settings", "Settings")]


def options_section(tool, subcommand):
    """OPTIONS from `TOOL --list-options` (lib/mbx/cli/tool.cpp): the very options --help shows,
    for one subcommand when given (its own options, the common ones and the settings)."""
    import subprocess

    r = subprocess.run([tool, "--list-options"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("md2man: %s --list-options exited %d: %s" % (tool, r.returncode, r.stderr.strip()))
    options, takes = [], None
    for l in r.stdout.splitlines():
        f = l.split("\t")
        if f[0] == "option":
            f += [""] * (6 - len(f))
            options.append(dict(long=f[1], short=f[2], value=f[3], group=f[4], help=f[5]))
        elif f[0] == "subcommand" and f[1] == subcommand:
            takes = f[2].split() if len(f) > 2 else []
    if subcommand is not None and takes is None:
        sys.exit("md2man: %s has no subcommand %s" % (tool, subcommand))
    out = [".SH OPTIONS"]
    if subcommand:
        command = os.path.basename(tool)[len("mbx-") :]
        out.append(line("The options of \\fBmbx %s %s\\fR, as \\fB\\-\\-help\\fR lists them." % (esc_chars(command), esc_chars(subcommand))))
    for group, title in GROUPS:
        chosen = [o for o in options if o["group"] == group]
        if subcommand is not None and group in ("own", "users"):
            chosen = [o for o in chosen if o["long"] in takes]
        if not chosen:
            continue
        if title:
            out.append(".SS " + quote_arg(title))
        if group == "settings":
            out.append(line("These override the configuration file and the MBX_* variables."))
        for o in chosen:
            tag = ("\\fB%s\\fR, " % esc_chars(o["short"]) if o["short"] else "") + "\\fB%s\\fR" % esc_chars(o["long"])
            if o["value"]:
                tag += " \\fI%s\\fR" % esc_chars(o["value"])
            out.append(".TP")
            out.append(line(tag))
            out.append(line(inline(o["help"]) or "\\&"))
    return out


# --- pages ------------------------------------------------------------------------------------


def header(name, section, version, manual="mbxkit manual"):
    return [
        '.\\" Generated from the Markdown in docs/ by scripts/md2man.py; do not edit.',
        ".TH %s %s \"\" %s %s"
        % (quote_arg(esc_chars(name.upper())), section, quote_arg("mbxkit " + esc_chars(version)), quote_arg(manual)),
        ".ad l",
        ".nh",
    ]


def see_also(names):
    out = [".SH \"SEE ALSO\""]
    refs = ["\\fB%s\\fR(1)" % esc_chars(n) for n in names]
    out.append(line(", ".join(refs)))
    return out


def convert_page(src, dst, version, extra_see_also, tool=None, subcommand=None):
    with open(src, encoding="utf-8") as f:
        lines = f.read().split("\n")
    page = "mbx-" + os.path.splitext(os.path.basename(src))[0]
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    m = HEADING.match(lines[i]) if i < len(lines) else None
    if not m or len(m.group(1)) != 1:
        sys.exit("md2man: %s: the page must start with a '# mbx NAME — summary' heading" % src)
    title = plain(m.group(2))
    summary = re.split(r"\s+(?:—|--|-|:)\s+", title, maxsplit=1)
    summary = summary[1] if len(summary) > 1 else title
    i += 1
    w = Writer()
    w.lines += header(page, 1, version)
    w.req(".SH NAME")
    w.text(esc_chars(page) + " \\- " + inline(summary, None))
    while i < len(lines) and not lines[i].strip():
        i += 1
    # SYNOPSIS: the code block right after the title (fenced or indented).
    synopsis = []
    fm = FENCE.match(lines[i]) if i < len(lines) else None
    if fm:
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fm.group(2)[:3]):
            synopsis.append(lines[i])
            i += 1
        i += 1
    elif i < len(lines) and indent_of(lines[i]) >= 4:
        while i < len(lines) and indent_of(lines[i]) >= 4:
            synopsis.append(lines[i][4:])
            i += 1
    if synopsis:
        w.req(".SH SYNOPSIS")
        w.req(".nf")
        for s in synopsis:
            w.text(esc_chars(s.rstrip()))
        w.req(".fi")
    body = lines[i:]
    # The page's own "## See also" joins the generated SEE ALSO (one section, at the end).
    own_see_also = []
    sa = next((k for k, b in enumerate(body) if re.match(r"^## +see also\s*$", b, re.I)), None)
    if sa is not None:
        end = next((k for k in range(sa + 1, len(body)) if body[k].startswith("## ")), len(body))
        own_see_also = body[sa + 1 : end]
        body = body[:sa] + body[end:]
    if any(b.strip() and not HEADING.match(b) for b in body[: next((k for k, b in enumerate(body) if b.startswith("## ")), len(body))]):
        w.req(".SH DESCRIPTION")
    # The tool's options go after DESCRIPTION, or, when the page has its own "## Options", at
    # the end of that section (one OPTIONS section: the page's words, then every option).
    h2 = [k for k, b in enumerate(body) if b.startswith("## ")] + [len(body)]
    own = next((n for n, k in enumerate(h2[:-1]) if re.match(r"^## +options\s*$", body[k], re.I)), None)
    cut = h2[own + 1] if own is not None else h2[0]
    parse_blocks(body[:cut], w)
    if tool:
        options = options_section(tool, subcommand)
        if own is not None:
            options[0] = '.SS "Every option"'
        w.lines += options
    parse_blocks(body[cut:], w)
    # Sibling pages: quota names quota-cleanup and quota-raise, and they name quota.
    here = page[len("mbx-") :]
    siblings = sorted(
        "mbx-" + os.path.splitext(p)[0]
        for p in os.listdir(os.path.dirname(os.path.abspath(src)))
        if p.endswith(".md") and (p.startswith(here + "-") or here.startswith(os.path.splitext(p)[0] + "-"))
    )
    extra = Writer()
    extra.links = w.links
    if any(l.strip() for l in own_see_also):
        extra.req(".PP")
        parse_blocks(own_see_also, extra)
    names = ["mbx"]
    for n in siblings + w.links + extra_see_also:
        if n != page and n not in names:
            names.append(n)
    w.lines += see_also(names)
    w.lines += extra.lines
    write_out(dst, w.lines)


def convert_overview(readme, commands_dir, dst, version):
    with open(readme, encoding="utf-8") as f:
        lines = f.read().split("\n")
    start = next((k for k, l in enumerate(lines) if re.match(r"^## +Commands\s*$", l)), None)
    if start is None:
        sys.exit("md2man: %s has no '## Commands' section" % readme)
    k = start + 1
    while k < len(lines) and not lines[k].lstrip().startswith("|"):
        k += 1
    table_header = split_row(lines[k])
    k += 2
    rows = []
    while k < len(lines) and lines[k].strip().startswith("|"):
        rows.append(split_row(lines[k]))
        k += 1
    pages = sorted(os.path.splitext(p)[0] for p in os.listdir(commands_dir) if p.endswith(".md"))
    w = Writer()
    w.lines += header("mbx", 1, version)
    w.req(".SH NAME")
    w.text("mbx \\- mail administration toolkit for ActiveSync/MIS errors (mbxkit)")
    w.req(".SH SYNOPSIS")
    w.req(".nf")
    w.text("\\fBmbx\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR...]")
    w.text("\\fBmbx help\\fR [\\fICOMMAND\\fR]")
    w.text("\\fBmbx \\-\\-version\\fR")
    w.req(".fi")
    w.req(".SH DESCRIPTION")
    w.text("\\fBmbx\\fR runs \\fBmbx\\-\\fR\\fICOMMAND\\fR from its own directory (git style).")
    w.text("Every command records what it did in an SQLite journal, prints tables for people and")
    w.text("csv or json for machines, never takes a secret on the command line, and verifies TLS")
    w.text("certificates. \\fBmbx COMMAND \\-\\-help\\fR lists a command's options.")
    w.req(".SH COMMANDS")
    # README's table: command | what it does | docs. The docs cell names the man pages.
    for row in rows:
        row = row + [""] * (len(table_header) - len(row))
        w.req(".TP")
        w.text(inline(row[0]))
        w.text(inline(row[1]))
        manpages = []
        for _, target in LINK.findall(row[2] if len(row) > 2 else ""):
            p = command_page_of(target.replace("docs/commands/", ""))
            if p and p not in manpages:
                manpages.append(p)
        if manpages:
            w.req(".br")
            w.text("See " + ", ".join("\\fB%s\\fR(1)" % esc_chars(p) for p in manpages) + ".")
    w.req(".SH \"EXIT STATUS\"")
    w.text("0 ok, 1 warning, 2 critical, 64 usage, 65 bad data, 69 unavailable, 75 temporary,")
    w.text("77 authentication, 78 configuration.")
    w.req(".SH FILES")
    w.req(".TP")
    w.text("\\fI/etc/mbxkit/mbxkit.conf\\fR")
    w.text("the configuration file, unless \\fB\\-\\-config\\fR or \\fB$MBX_CONFIG\\fR names another.")
    w.lines += see_also(["mbx-" + p for p in pages])
    write_out(dst, w.lines)


def write_out(dst, out_lines):
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    tmp = dst + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("\n".join(out_lines) + "\n")
    os.replace(tmp, dst)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("page")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--version", default="")
    p.add_argument("--see-also", nargs="*", default=[])
    p.add_argument("--tool", help="the built mbx-COMMAND: OPTIONS from its --list-options")
    p.add_argument("--subcommand", help="only the options this subcommand of --tool takes")
    o = sub.add_parser("overview")
    o.add_argument("readme")
    o.add_argument("commands_dir")
    o.add_argument("dst")
    o.add_argument("--version", default="")
    a = ap.parse_args()
    if a.mode == "page":
        convert_page(a.src, a.dst, a.version, a.see_also, a.tool, a.subcommand)
    else:
        convert_overview(a.readme, a.commands_dir, a.dst, a.version)


if __name__ == "__main__":
    main()
