"""A measure's legal basis (实施依据) as text: one rule to read it and one to write it.

The memo import and export (the 实施依据 column) and the memo admin's
measure rows use the same form, so what the admin shows can be pasted into
a spreadsheet and back:

- one basis is ``层级：标题 条款``, e.g. ``法律：《中华人民共和国产品质量法》第十三条``;
  the level is one of ``LegalBasis.Level`` (法律 … 备忘录), the colon full- or
  half-width; the title is a 《…》 (with the 文号 in brackets after it, if
  given) or a 文号; the article is what follows (``第十三条``, ``第三条第二款``);
- several bases of one measure are separated by ``；``;
- in a memo's cell, one line per measure, numbered ``1、…`` like the
  责任处室 (a measure without a basis keeps its number and an empty line).

Nothing here touches the database.
"""

import re
from dataclasses import dataclass

from measures.models import LegalBasis
from memo_registry.lib.text import split_paragraphs, squeeze

LEVELS = tuple(LegalBasis.Level.values)
SEPARATOR = "；"
TITLE_MAX = LegalBasis._meta.get_field("title").max_length
ARTICLE_MAX = LegalBasis._meta.get_field("article").max_length

_LEVEL = re.compile(r"^([^：:]{1,20})[：:]\s*(.*)$")
# An article at the end of a title that is a 文号: 第…条 (款、项 …) and the rest.
_ARTICLE = re.compile(r"^(.+?)(第[〇零一二三四五六七八九十百千两\d]+[条款项章节].*)$")
# A 文号 in brackets right after a 《title》 belongs to the title.
_DOC_NUMBER_AFTER = re.compile(r"^([（(][^（）()]*[〔\[［(（]?\d{4}[^（）()]*[）)])")
_NUMBERED_LINE = re.compile(r"^\s*(\d{1,3})[、.．](?!\d)\s*(.*)$")


@dataclass(frozen=True)
class Basis:
    level: str
    title: str
    article: str = ""

    def __str__(self) -> str:
        return format_basis(self.level, self.title, self.article)


class BasisError(ValueError):
    """A basis that cannot be read; the message is the reason, in Chinese."""


def format_basis(level: str, title: str, article: str = "") -> str:
    return f"{level}：{title}{article}"


def format_bases(bases) -> str:
    """The bases of one measure (LegalBasis or Basis) as one line."""
    return SEPARATOR.join(format_basis(b.level, b.title, b.article) for b in bases)


def _split_title(rest: str) -> tuple[str, str]:
    if rest.startswith("《"):
        depth = 0
        for index, char in enumerate(rest):
            depth += {"《": 1, "》": -1}.get(char, 0)
            if depth == 0:
                title, article = rest[: index + 1], rest[index + 1 :].strip()
                doc_number = _DOC_NUMBER_AFTER.match(article)
                if doc_number:
                    title += doc_number.group(1)
                    article = article[doc_number.end() :].strip()
                return title, article
        raise BasisError(f"「{rest}」的书名号《》不成对。")
    match = _ARTICLE.match(rest)
    return (match.group(1).strip(), match.group(2).strip()) if match else (rest, "")


def parse_basis(text: str) -> Basis:
    """One basis from ``层级：标题 条款``; BasisError naming what is wrong."""
    text = squeeze(text)
    match = _LEVEL.match(text)
    if not match:
        raise BasisError(f"「{text}」应写作“层级：标题 条款”，如“法律：《……》第十三条”。")
    level, rest = squeeze(match.group(1)), squeeze(match.group(2))
    if level not in LEVELS:
        raise BasisError(f"「{text}」的层级“{level}”无法识别，应为{'、'.join(LEVELS)}之一。")
    if not rest:
        raise BasisError(f"「{text}」缺少文件名称或文号。")
    title, article = _split_title(rest)
    if len(title) > TITLE_MAX:
        raise BasisError(f"「{title[:20]}…」的标题超过 {TITLE_MAX} 个字符。")
    if len(article) > ARTICLE_MAX:
        raise BasisError(f"「{article[:20]}…」的条款超过 {ARTICLE_MAX} 个字符。")
    return Basis(level, title, article)


def parse_bases(text: str | None) -> tuple[tuple[Basis, ...], list[str]]:
    """The bases of one measure (separated by ``；``) and the reasons of those refused."""
    bases, errors = [], []
    for piece in re.split(r"[；;]", text or ""):
        if not squeeze(piece):
            continue
        try:
            bases.append(parse_basis(piece))
        except BasisError as error:
            errors.append(str(error))
    return tuple(bases), errors


def measures_lines(cell: str | None, measure_count: int) -> list[str]:
    """A memo's 实施依据 cell cut into one text per measure.

    Numbered lines (``2、…``) go to that measure, the others by position; a
    single unnumbered line with several measures applies to all of them, as
    a single 责任处室 does.  BasisError when the lines cannot be matched.
    """
    lines = split_paragraphs(cell)
    if not lines:
        return [""] * measure_count
    numbered = [_NUMBERED_LINE.match(line) for line in lines]
    if all(numbered):
        texts = [""] * measure_count
        for match in numbered:
            number = int(match.group(1))
            if not 1 <= number <= measure_count:
                raise BasisError(f"第 {number} 行实施依据没有对应的措施（共 {measure_count} 条）。")
            if texts[number - 1]:
                raise BasisError(f"措施 {number} 的实施依据写了两行；请用“；”分隔写在同一行。")
            texts[number - 1] = match.group(2)
        return texts
    if any(numbered):
        raise BasisError("实施依据有的行编号、有的不编号；请每行都以“1、”“2、”……开头。")
    if len(lines) == measure_count:
        return lines
    if len(lines) == 1:
        return lines * measure_count
    raise BasisError(
        f"有 {len(lines)} 行实施依据，而奖惩措施有 {measure_count} 条；"
        "应每条措施一行（可编号 1、2、…），或只填一行（适用于全部措施）。"
    )


def measures_cell(bases_per_measure: list[list]) -> str:
    """A memo's 实施依据 cell: the inverse of :func:`measures_lines`."""
    lines = [format_bases(bases) for bases in bases_per_measure]
    if len(lines) > 1:
        lines = [f"{n}、{line}" for n, line in enumerate(lines, 1)]
    return "\n".join(lines) if any(lines) else ""


def replace_bases(measure, bases, *, reason: str = "", user=None) -> bool:
    """Make ``measure``'s bases be ``bases`` (in order), each change in the
    history: rows changed in place, added or deleted.  Whether anything changed."""
    current = list(LegalBasis.objects.filter(measure=measure).order_by("order", "pk"))
    wanted = [(b.level, b.title, b.article) for b in bases]
    if [(b.level, b.title, b.article) for b in current] == wanted and all(
        row.order == n for n, row in enumerate(current, 1)
    ):
        return False
    for order, (level, title, article) in enumerate(wanted, 1):
        row = current[order - 1] if order <= len(current) else LegalBasis(measure=measure)
        if row.pk and (row.order, row.level, row.title, row.article) == (
            order,
            level,
            title,
            article,
        ):
            continue
        row.order, row.level, row.title, row.article = order, level, title, article
        _save_with_reason(row, reason, user)
    for row in current[len(wanted) :]:
        row._change_reason = reason
        if user is not None:
            row._history_user = user
        row.delete()
    return True


def _save_with_reason(row, reason: str, user) -> None:
    row._change_reason = reason
    if user is not None:
        row._history_user = user
    row.save()
