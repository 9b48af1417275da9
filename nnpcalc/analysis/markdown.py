"""A small Markdown document builder that also writes a self-contained HTML twin.

Reports are read both in terminals/git (Markdown) and in browsers (HTML with embedded PNGs);
this covers the few constructs they use — headings, paragraphs, tables, images — without a
templating dependency.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path


def fmt(value, digits: int = 3) -> str:
    if isinstance(value, float):
        if value != value:
            return "–"
        return f"{value:.{digits}g}" if abs(value) < 1e4 else f"{value:.0f}"
    return str(value)


class Document:
    def __init__(self, title: str):
        self.blocks: list[tuple[str, object]] = [("h1", title)]

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append((f"h{level}", text))

    def paragraph(self, text: str) -> None:
        self.blocks.append(("p", text))

    def table(self, header: list[str], rows: list[list]) -> None:
        self.blocks.append(("table", (header, [[fmt(v) for v in row] for row in rows])))

    def image(self, path: str | Path, caption: str) -> None:
        self.blocks.append(("img", (Path(path), caption)))

    def markdown(self, base: Path) -> str:
        out = []
        for kind, data in self.blocks:
            if kind.startswith("h"):
                out.append("#" * int(kind[1]) + " " + data)
            elif kind == "p":
                out.append(data)
            elif kind == "table":
                header, rows = data
                out.append("| " + " | ".join(header) + " |")
                out.append("|" + "---|" * len(header))
                out.extend("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
                           for row in rows)
            else:
                path, caption = data
                shown = path.relative_to(base) if path.is_absolute() else path
                out.append(f"![{caption}]({shown})")
            out.append("")
        return "\n".join(out)

    def html(self, base: Path) -> str:
        body = []
        for kind, data in self.blocks:
            if kind.startswith("h"):
                body.append(f"<{kind}>{html.escape(data)}</{kind}>")
            elif kind == "p":
                body.append(f"<p>{html.escape(data)}</p>")
            elif kind == "table":
                header, rows = data
                head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
                cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row)
                                + "</tr>" for row in rows)
                body.append(f"<table><tr>{head}</tr>{cells}</table>")
            else:
                path, caption = data
                full = path if path.is_absolute() else base / path
                data64 = base64.b64encode(full.read_bytes()).decode()
                body.append(f"<figure><img src='data:image/png;base64,{data64}' "
                            f"alt='{html.escape(caption)}'><figcaption>{html.escape(caption)}"
                            "</figcaption></figure>")
        style = ("body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:"
                 "collapse}td,th{border:1px solid #bbb;padding:2px 8px}img{max-width:100%}")
        return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
                f"{html.escape(self.blocks[0][1])}</title><style>{style}</style></head><body>"
                + "\n".join(body) + "</body></html>")

    def write(self, out_dir: str | Path, stem: str = "report") -> Path:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"{stem}.md").write_text(self.markdown(out_dir))
        (out_dir / f"{stem}.html").write_text(self.html(out_dir))
        return out_dir / f"{stem}.md"
