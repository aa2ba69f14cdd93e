"""Write the hostile-input corpus: ``python tests/hostile/make_corpus.py``.

The files are checked in; this script only says how each was made, so that
one can be changed or added without guessing.  Every file is small: the zip
bombs are about 250 KB on disk and unzip to 256 MiB.  Codes and dates are
fixed, so running it again gives the same content (xlsx files carry no
timestamp of their own making).  tests/hostile/README.md says what each file
tests; tests/test_hostile_input.py says what must happen to it.
"""

import csv
import datetime
import io
import os
import re
import sys
import zipfile
from pathlib import Path

import django
import openpyxl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memo_registry.settings")
django.setup()

from tests.data.builders import HEADER, memo_row  # noqa: E402
from tests.factories import valid_uscc  # noqa: E402

MEMOS = HERE / "memos"
SUBJECTS = HERE / "subjects"
FIXED_TIME = datetime.datetime(2025, 1, 1)
BOMB_BYTES = 256 * 1024 * 1024

# --- the texts a hostile cell carries -----------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HYPERLINK = '=HYPERLINK("http://evil.example/","点我")'
DDE = "+cmd|' /C calc'!A0"
MINUS = "-2+3"
AT_SUM = "@SUM(A1:A2)"
TAB_LEADING = "\t=1+1"
CR_LEADING = "\r=1+1"
SQL = "'; DROP TABLE memos_memorandum; --"
SQL_SUBJECTS = "'); DELETE FROM subjects_listing; --"


# --- writers ---------------------------------------------------------------


def csv_bytes(rows, *, encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _fixed_zip_times(buffer.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The same zip with every member dated FIXED_TIME (byte-stable output)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            info = zipfile.ZipInfo(member.filename, FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(member)
            if member.filename == "docProps/core.xml":  # openpyxl stamps the time of saving
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2025-01-01T00:00:00Z", content
                )
            target.writestr(info, content)
    return out.getvalue()


def zip_bomb(first_rows) -> bytes:
    """A well-formed xlsx whose sheet XML unzips to 256 MiB (mostly spaces).

    The workbook around it is a real one, so only the size gives it away.
    """
    honest = xlsx_bytes(first_rows)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(honest)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            info = zipfile.ZipInfo(member.filename, FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            if member.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, source.read(member))
                continue
            sheet = source.read(member)
            head, tail = sheet.split(b"<sheetData>", 1)
            with target.open(info, "w", force_zip64=True) as stream:
                stream.write(head + b"<sheetData>")
                chunk = b" " * (1024 * 1024)
                for _ in range(BOMB_BYTES // len(chunk)):
                    stream.write(chunk)
                stream.write(tail)
    return out.getvalue()


def truncated(data: bytes) -> bytes:
    """The first half of a file, as an interrupted download leaves it."""
    return data[: len(data) // 2]


def corrupt_xlsx() -> bytes:
    """A zip with an xlsx's member names whose XML is junk."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in (
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/worksheets/sheet1.xml",
        ):
            info = zipfile.ZipInfo(name, FIXED_TIME.timetuple()[:6])
            archive.writestr(info, b"\x8b\x1f junk that is not XML <<<< &&& " * 20)
    return out.getvalue()


def png_bytes() -> bytes:
    """The start of a real PNG file (signature, IHDR, a bit of IDAT)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * 16 for _ in range(16)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Length 44 /Filter /FlateDecode >>\nstream\n"
    b"x\x9c\x03\x00\x00\x00\x00\x01\x00\x00\x00\x00\x13\x88\xff\x00\nendstream\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
OLE = (
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff" + b"\x00" * 482
)


def utf16(text: str, codec: str, bom: bool) -> bytes:
    data = text.encode(codec)
    if bom:
        data = ("\ufeff".encode(codec)) + data
    return data


def as_text(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


# --- memos -------------------------------------------------------------------

MEMO_OPTIONAL = ["类型", "对象简称", "状态", "废止日期"]


def memo(seq, **fields):
    """A valid row that fits into the 2018 list: 序号 and 文号 of its own."""
    values = {"doc_number": f"测试财金〔2024〕{seq}号"} | fields
    return memo_row(seq, **values)


def memo_files() -> dict[str, bytes]:
    good = [HEADER, memo(901), memo(902, doc_number="测试财金〔2024〕902号")]
    files = {
        "empty.csv": b"",
        "whitespace_only.csv": b"   \r\n\t \r\n\xe3\x80\x80\r\n\r\n",
        "header_only.csv": csv_bytes([HEADER]),
        "title_rows_only.xlsx": xlsx_bytes(
            [["全市质监部门参与的联合奖惩备忘录责任清单"], ["（2024年修订）"], [], ["制表：综合处"]]
        ),
        "missing_columns.csv": csv_bytes(
            [HEADER[:6], memo(901)[:6]],
        ),
        "duplicated_column.csv": csv_bytes(
            [[*HEADER, "文 号"], [*memo(901), "测试财金〔2024〕999号"]],
        ),
        "utf16_le_bom.csv": utf16(as_text(good), "utf-16-le", bom=True),
        "utf16_be_bom.csv": utf16(as_text(good), "utf-16-be", bom=True),
        "utf16_le_no_bom.csv": utf16(as_text(good), "utf-16-le", bom=False),
        "utf16_be_no_bom.csv": utf16(as_text(good), "utf-16-be", bom=False),
        "latin1.csv": as_text(
            [["Numéro", "Référence", "Intitulé"], ["1", "Café", "Zürich, naïve façade"]]
        ).encode("latin-1"),
        "shift_jis.csv": as_text(
            [
                ["番号", "文書番号", "覚書名称", "発起部門"],
                ["1", "発改財金〔2016〕141号", "失信被執行人に対する覚書", "最高裁判所"],
            ]
        ).encode("shift_jis"),
        "png_renamed.csv": png_bytes(),
        "pdf_renamed.csv": PDF,
        "old_excel.xls": OLE,
        "truncated.xlsx": truncated(xlsx_bytes(good)),
        "corrupt.xlsx": corrupt_xlsx(),
        "zip_bomb.xlsx": zip_bomb([HEADER]),
        "duplicate_doc_number.csv": csv_bytes(
            [
                HEADER,
                memo(901, doc_number="测试财金(2024)901号"),
                memo(902, doc_number="测试财金【2024】901号"),
            ]
        ),
        "overlong_cell.csv": csv_bytes([HEADER, memo(901, definition="长" * 10_000)]),
        "nul_in_cell.csv": csv_bytes([HEADER, memo(901, title="对失信被执行人实施\x00联合惩戒")]),
        "unterminated_quote.csv": (
            csv_bytes([HEADER, memo(901)])
            + "902,测试财金〔2024〕902号,对失信被执行人实施联合惩戒的合作备忘录,市中级人民法院,"
            '某对象,全市质监部门,1、限制,"行政审批处\r\n'.encode()
            + csv_bytes([memo(903)], encoding="utf-8")
        ),
        "ragged_rows.csv": csv_bytes([HEADER, memo(901), memo(902)[:4], [*memo(903), "多", "余"]]),
        "wide_row.csv": csv_bytes(
            [HEADER, memo(901) + [f"列{n}" for n in range(9, 2001)]],
        ),
        "wide_row.xlsx": xlsx_bytes([HEADER, memo(901) + [f"列{n}" for n in range(9, 2001)]]),
        "seq_not_a_number.csv": csv_bytes(
            [
                HEADER,
                memo("abc", doc_number="测试财金〔2024〕901号"),
                memo("-1", doc_number="测试财金〔2024〕902号"),
                memo("1e9", doc_number="测试财金〔2024〕903号"),
            ]
        ),
        "doc_number_only_spaces.csv": csv_bytes(
            [HEADER, memo(901, doc_number="   "), memo(902, doc_number="\u3000 \u3000")]
        ),
        "sql_in_seq_and_date.csv": csv_bytes(
            [
                [*HEADER, *MEMO_OPTIONAL],
                [
                    *memo(f"901{SQL}"),
                    "惩戒",
                    "",
                    "已废止",
                    f"2020-01-01{SQL}",
                ],
            ]
        ),
        "impossible_date.csv": csv_bytes(
            [[*HEADER, *MEMO_OPTIONAL], [*memo(901), "惩戒", "", "已废止", "2025-02-30"]]
        ),
        "control_chars.csv": csv_bytes(
            [
                HEADER,
                memo(
                    901,
                    title="对失信\x1b[31m被执行人\x7f实施联合惩戒\x07的合作备忘录",
                    definition="最高人民法院\x08公布的\x0c失信被执行人\x1f",
                ),
            ]
        ),
        "markup_formulas.csv": csv_bytes([[*HEADER, *MEMO_OPTIONAL], *markup_memos()]),
        "markup_formulas.xlsx": xlsx_bytes([[*HEADER, *MEMO_OPTIONAL], *markup_memos()]),
        "sql_text.csv": csv_bytes(
            [
                HEADER,
                memo(
                    951,
                    title=f"对失信被执行人实施联合惩戒的合作备忘录{SQL}",
                    definition=f"1 OR 1=1; {SQL}",
                    measures=f'1、{SQL}\n2、" OR ""="',
                    divisions="行政审批处",
                ),
            ]
        ),
    }
    return files


def markup_memos() -> list[list[str]]:
    """Memos 961 and 962 of the 'valid with oddity' files: markup and formulas in text cells."""
    return [
        [
            "961",
            f"测试〔2024〕961号{SCRIPT}",
            SCRIPT,
            f"市{SCRIPT}局",
            f"{SCRIPT}{IMG}",
            "全市质监部门",
            f"1、{SCRIPT}\n2、{IMG}\n3、{HYPERLINK}",
            f"1、{SCRIPT}处\n2、行政审批处\n3、行政审批处",
            "惩戒",
            SCRIPT,
            "",
            "",
        ],
        [
            "962",
            "测试〔2024〕962号",
            HYPERLINK,
            DDE,
            AT_SUM,
            MINUS,
            "1、限制其担任企业法定代表人",
            "行政审批处",
            "激励",
            TAB_LEADING,
            "",
            "",
        ],
        [
            "963",
            "测试〔2024〕963号",
            "对失信被执行人实施联合惩戒的合作备忘录",
            "市中级人民法院",
            CR_LEADING,
            "全市质监部门",
            "1、限制其担任企业法定代表人",
            "行政审批处",
            "惩戒",
            f"{IMG}{MINUS}",
            "",
            "",
        ],
    ]


# --- subjects ----------------------------------------------------------------

SUBJECT_HEADER = [
    "统一社会信用代码",
    "名称",
    "列入依据",
    "列入日期",
    "有效期至",
    "来源",
    "认定依据",
]
BASIS = "失信被执行人"


def listing(n, **fields):
    """A valid listing row: an enterprise code of its own on the 失信被执行人 list."""
    values = {
        "code": valid_uscc(9000 + n),
        "name": f"武汉市测试{n}有限公司",
        "basis": BASIS,
        "listed_on": "2025-01-02",
        "expires_on": "2030-01-01",
        "source": "最高人民法院",
        "reason": f"（2024）鄂01执{n}号",
    } | fields
    return [
        values[key]
        for key in ("code", "name", "basis", "listed_on", "expires_on", "source", "reason")
    ]


def subject_files() -> dict[str, bytes]:
    good = [SUBJECT_HEADER, listing(1), listing(2)]
    bad_check = listing(3)
    bad_check[0] = bad_check[0][:-1] + ("0" if bad_check[0][-1] != "0" else "1")
    numbers = [SUBJECT_HEADER, listing(1), listing(2)]
    numbers[2][0] = 914201000000090020
    files = {
        "empty.csv": b"",
        "whitespace_only.csv": b"   \r\n\t \r\n\xe3\x80\x80\r\n\r\n",
        "header_only.csv": csv_bytes([SUBJECT_HEADER]),
        "title_rows_only.xlsx": xlsx_bytes(
            [["2025年失信被执行人名单"], ["（第一批）"], [], ["制表：信用办"]]
        ),
        "missing_columns.csv": csv_bytes(
            [
                ["统一社会信用代码", "名称", "列入依据", "来源"],
                [valid_uscc(9001), "武汉市测试1有限公司", BASIS, "最高人民法院"],
            ]
        ),
        "duplicated_column.csv": csv_bytes(
            [[*SUBJECT_HEADER, "名 称"], [*listing(1), "另一个名称"]],
        ),
        "utf16_le_bom.csv": utf16(as_text(good), "utf-16-le", bom=True),
        "utf16_be_bom.csv": utf16(as_text(good), "utf-16-be", bom=True),
        "utf16_le_no_bom.csv": utf16(as_text(good), "utf-16-le", bom=False),
        "utf16_be_no_bom.csv": utf16(as_text(good), "utf-16-be", bom=False),
        "latin1.csv": as_text(
            [["Numéro", "Dénomination", "Liste"], [valid_uscc(9001), "Société Générale", "façade"]]
        ).encode("latin-1"),
        "shift_jis.csv": as_text(
            [
                ["法人番号", "名称", "リスト", "登録日"],
                [valid_uscc(9001), "株式会社テスト", "失信被執行人", "2025-01-02"],
            ]
        ).encode("shift_jis"),
        "png_renamed.csv": png_bytes(),
        "pdf_renamed.csv": PDF,
        "old_excel.xls": OLE,
        "truncated.xlsx": truncated(xlsx_bytes(good)),
        "corrupt.xlsx": corrupt_xlsx(),
        "zip_bomb.xlsx": zip_bomb([SUBJECT_HEADER]),
        "duplicate_code_different_names.csv": csv_bytes(
            [SUBJECT_HEADER, listing(1), listing(2), listing(1, name="武汉市另一家有限公司")]
        ),
        "overlong_cell.csv": csv_bytes(
            [SUBJECT_HEADER, listing(1), listing(2, name="长" * 10_000)]
        ),
        "nul_in_cell.csv": csv_bytes([SUBJECT_HEADER, listing(1), listing(2, name="武汉\x00公司")]),
        "unterminated_quote.csv": (
            csv_bytes([SUBJECT_HEADER, listing(1)])
            + f'{valid_uscc(9002)},武汉市测试2有限公司,{BASIS},2025-01-02,2030-01-01,最高人民法院,"（2024）鄂01执2号\r\n'.encode()
            + csv_bytes([listing(3)], encoding="utf-8")
        ),
        "ragged_rows.csv": csv_bytes(
            [SUBJECT_HEADER, listing(1), listing(2)[:3], [*listing(3), "多", "余"]]
        ),
        "wide_row.csv": csv_bytes(
            [SUBJECT_HEADER, listing(1) + [f"列{n}" for n in range(8, 2001)]],
        ),
        "impossible_date.csv": csv_bytes(
            [SUBJECT_HEADER, listing(1), listing(2, listed_on="2025-02-30")]
        ),
        "expiry_before_listing.csv": csv_bytes(
            [
                SUBJECT_HEADER,
                listing(1),
                listing(2, listed_on="2025-06-01", expires_on="2025-05-31"),
            ]
        ),
        "bad_check_character.csv": csv_bytes([SUBJECT_HEADER, listing(1), bad_check]),
        "codes_scientific.csv": csv_bytes(
            [SUBJECT_HEADER, listing(1), listing(2, code="9.14201E+17")]
        ),
        "codes_as_numbers.xlsx": xlsx_bytes(numbers),
        "sql_in_code_and_date.csv": csv_bytes(
            [
                SUBJECT_HEADER,
                listing(1, code=f"{valid_uscc(9001)}{SQL_SUBJECTS}"),
                listing(2, listed_on=f"2025-01-02{SQL_SUBJECTS}"),
            ]
        ),
        "control_chars.csv": csv_bytes(
            [
                SUBJECT_HEADER,
                listing(
                    71, name="武汉市\x1b[31m测试\x7f有限\x07公司", source="最高\x08人民法院\x1f"
                ),
            ]
        ),
        "markup_formulas.csv": csv_bytes([SUBJECT_HEADER, *markup_listings()]),
        "markup_formulas.xlsx": xlsx_bytes([SUBJECT_HEADER, *markup_listings()]),
        "sql_text.csv": csv_bytes(
            [
                SUBJECT_HEADER,
                listing(91, name=f"武汉市测试{SQL_SUBJECTS}", source=SQL, reason="1' OR '1'='1"),
            ]
        ),
    }
    return files


def markup_listings() -> list[list[str]]:
    """Listings 81–84 of the 'valid with oddity' files: markup and formulas in text cells."""
    return [
        listing(81, name=SCRIPT, source=IMG, reason=HYPERLINK),
        listing(82, name=IMG, source=DDE, reason=AT_SUM),
        listing(83, name=HYPERLINK, source=MINUS, reason=TAB_LEADING),
        listing(84, name=f"{AT_SUM}{SCRIPT}", source=CR_LEADING, reason=SCRIPT),
    ]


def main() -> None:
    for folder, files in ((MEMOS, memo_files()), (SUBJECTS, subject_files())):
        folder.mkdir(exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        for name, data in files.items():
            (folder / name).write_bytes(data)
            print(f"{folder.name}/{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
