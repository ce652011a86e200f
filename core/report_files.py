"""The monthly reports as tables (for the portal, Excel and PDF alike), as an .xlsx workbook (openpyxl,
Chinese headers) and as a PDF (fpdf2 with the CJK font of `core.pdf`)."""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from core.reports import AREA_LABELS, BEIJING, HEADLINES, KINDS, UNCLASSIFIED, WARRANTY_LABELS

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def _kind_label(kind: str, lang: str) -> str:
    from core.tickets import ticket_kinds

    found = ticket_kinds().get(kind)
    return (found[1].label_en if lang == "en" else found[1].label_zh) if found else kind


def _channel_label(channel: str, lang: str) -> str:
    from core.tickets import CHANNELS

    return _pick(CHANNELS.get(channel, (channel, channel)), lang)


def _table(key: str, title: tuple[str, str], columns: list[tuple[str, str]], rows: list[list[Any]],
           total: list[Any] | None, lang: str) -> dict[str, Any]:
    return {"key": key, "title": _pick(title, lang), "columns": [_pick(c, lang) for c in columns], "rows": rows,
            "total": total}


TOTAL = ("合计", "Total")
PROJECT = ("项目", "Project")


def _repair_columns(*first: tuple[str, str]) -> list[tuple[str, str]]:
    return [*first, ("报修数", "Received"), ("紧急", "Emergency"), ("已完成", "Completed"), ("按时完成", "On time"),
            ("超时", "Overdue"), ("按时完成率(%)", "On-time rate (%)"), ("即时处理", "Immediate"),
            ("即时处理率(%)", "Immediate rate (%)"), ("已回访", "Visited"), ("平均满意度", "Avg. satisfaction")]


def _repair_values(r: dict[str, Any]) -> list[Any]:
    return [r["received"], r["emergency"], r["completed"], r["on_time"], r["overdue"], r["on_time_rate"], r["immediate"],
            r["immediate_rate"], r["visited"], r["satisfaction"]]


def _repair_tables(report: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    area = lambda v: _pick(AREA_LABELS.get(v, (v, v)), lang)  # noqa: E731
    warranty = lambda v: _pick(WARRANTY_LABELS.get(v, (v, v)), lang)  # noqa: E731
    category = lambda v: v or _pick(UNCLASSIFIED, lang)  # noqa: E731
    total = _repair_values(report["total"])
    tables = [
        _table("detail", ("分类汇总", "By classification"),
               _repair_columns(PROJECT, ("区域", "Place"), ("保修", "Warranty"), ("类别", "Category")),
               [[r["project_name"], area(r["area"]), warranty(r["warranty"]), category(r["category"]), *_repair_values(r)]
                for r in report["rows"]], [_pick(TOTAL, lang), "", "", "", *total], lang),
        _table("by_class", ("按区域与保修", "By place and warranty"), _repair_columns(("区域", "Place"), ("保修", "Warranty")),
               [[area(r["area"]), warranty(r["warranty"]), *_repair_values(r)] for r in report["by_class"]],
               [_pick(TOTAL, lang), "", *total], lang),
        _table("by_category", ("按类别", "By category"), _repair_columns(("类别", "Category")),
               [[category(r["category"]), *_repair_values(r)] for r in report["by_category"]],
               [_pick(TOTAL, lang), *total], lang),
    ]
    if len(report["by_project"]) > 1:
        tables.append(_table("by_project", ("按项目", "By project"), _repair_columns(PROJECT),
                             [[r["project_name"], *_repair_values(r)] for r in report["by_project"]],
                             [_pick(TOTAL, lang), *total], lang))
    return tables


SERVICE_COLUMNS = [("受理", "Received"), ("完成", "Resolved"), ("即时处理率(%)", "Immediate (%)"),
                   ("回访率(%)", "Return visits (%)"), ("平均满意度", "Avg. satisfaction"), ("满意率(%)", "Satisfied (%)"),
                   ("响应超时", "Response breaches"), ("处理超时", "Resolution breaches"), ("回访超时", "Visit breaches")]


def _service_values(r: dict[str, Any]) -> list[Any]:
    return [r["received"], r["resolved"], r["immediate_rate"], r["visit_rate"], r["satisfaction"], r["satisfied_rate"],
            r["response_breaches"], r["resolution_breaches"], r["visit_breaches"]]


def _call_tables(report: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    kinds = report["kinds"]
    kind_cols = [(_kind_label(k, "zh"), _kind_label(k, "en")) for k in kinds]
    by_channel = [[_channel_label(r["channel"], lang), *[r["kinds"][k] for k in kinds], r["total"], r["immediate"]]
                  for r in report["by_channel"]]
    channel_total = [_pick(TOTAL, lang), *[report["by_kind"][k] for k in kinds], report["total"],
                     sum(r["immediate"] for r in report["by_channel"])]
    return [
        _table("by_channel", ("按渠道与类型", "By channel and kind"),
               [("渠道", "Channel"), *kind_cols, TOTAL, ("即时处理", "Immediate")], by_channel, channel_total, lang),
        _table("by_day", ("按日", "By day"), [("日期", "Date"), *kind_cols, TOTAL],
               [[d["date"], *[d["kinds"][k] for k in kinds], d["total"]] for d in report["by_day"]],
               [_pick(TOTAL, lang), *[report["by_kind"][k] for k in kinds], report["total"]], lang),
        _table("by_hour", ("按时段", "By hour"), [("时段", "Hour"), ("来电来访", "Calls and visits")],
               [[f"{h['hour']:02d}:00–{h['hour'] + 1:02d}:00", h["total"]] for h in report["by_hour"]],
               [_pick(TOTAL, lang), report["total"]], lang),
        _table("top_issues", ("热点问题", "Top issues"), [("排名", "Rank"), ("类型", "Kind"), ("问题", "Issue"),
                                                          ("次数", "Count")],
               [[i + 1, _kind_label(r["kind"], lang), r["title"], r["n"]] for i, r in enumerate(report["top_issues"])],
               None, lang),
        _table("service_by_project", ("服务质量(按项目)", "Service by project"), [PROJECT, *SERVICE_COLUMNS],
               [[r["project_name"], *_service_values(r)] for r in report["service_by_project"]],
               [_pick(TOTAL, lang), *_service_values(report["service"])], lang),
        _table("service_by_kind", ("服务质量(按类型)", "Service by kind"), [("类型", "Kind"), *SERVICE_COLUMNS],
               [[_kind_label(r["kind"], lang), *_service_values(r)] for r in report["service_by_kind"]],
               [_pick(TOTAL, lang), *_service_values(report["service"])], lang),
    ]


def headline_label(key: str, lang: str) -> str:
    for k, zh, en, unit in HEADLINES:
        if k == key:
            label = en if lang == "en" else zh
            return f"{label} (%)" if unit == "%" and lang == "en" else (f"{label}(%)" if unit == "%" else label)
    return key


def _cs_tables(report: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    area = lambda v: _pick(AREA_LABELS.get(v, (v, v)), lang)  # noqa: E731
    warranty = lambda v: _pick(WARRANTY_LABELS.get(v, (v, v)), lang)  # noqa: E731
    tables = [_table("headlines", ("本月概况与环比", "This month against last month"),
                     [("指标", "Figure"), ("本月", "This month"), ("上月", "Last month"), ("环比变化", "Change")],
                     [[headline_label(h["key"], lang), h["value"], h["previous"], h["change"]] for h in report["headlines"]],
                     None, lang)]
    keys = ("received", "resolved", "immediate_closure", "return_visit", "complaint_tracking", "on_time",
            "repair_on_time", "satisfaction", "breaches", "own_fault_complaints")
    rows = [[r["project_name"], *[r[k] for k in keys], r["previous"]["received"]] for r in report["by_project"]]
    tables.append(_table("by_project", ("各项目", "By project"),
                         [PROJECT, *[(headline_label(k, "zh"), headline_label(k, "en")) for k in keys],
                          ("上月受理", "Received last month")],
                         rows, [_pick(TOTAL, lang), *[report["total"][k] for k in keys], report["previous"]["received"]],
                         lang))
    tables.append(_table("by_class", ("维修分类", "Repairs by classification"),
                         [("区域", "Place"), ("保修", "Warranty"), ("报修数", "Received"), ("按时完成", "On time"),
                          ("超时", "Overdue"), ("按时完成率(%)", "On-time rate (%)")],
                         [[area(r["area"]), warranty(r["warranty"]), r["received"], r["on_time"], r["overdue"],
                           r["on_time_rate"]] for r in report["by_class"]], None, lang))
    tables.append(_table("by_channel", ("来电来访渠道", "Calls and visits by channel"),
                         [("渠道", "Channel"), ("来电来访", "Calls and visits")],
                         [[_channel_label(r["channel"], lang), r["total"]] for r in report["by_channel"]],
                         [_pick(TOTAL, lang), sum(r["total"] for r in report["by_channel"])], lang))
    tables.append(_table("top_issues", ("热点问题", "Top issues"), [("排名", "Rank"), ("类型", "Kind"), ("问题", "Issue"),
                                                                  ("次数", "Count")],
                         [[i + 1, _kind_label(r["kind"], lang), r["title"], r["n"]]
                          for i, r in enumerate(report["top_issues"])], None, lang))
    return tables


def tables(report: dict[str, Any], lang: str = "zh") -> list[dict[str, Any]]:
    """The report as titled tables: columns, rows and a total row (None where a total means nothing)."""
    build = {"repairs": _repair_tables, "calls": _call_tables, "cs": _cs_tables}[report["kind"]]
    return build(report, lang)


def scope_label(report: dict[str, Any], lang: str = "zh") -> str:
    if report["project_id"] is not None and report["projects"]:
        return report["projects"][0]["name"]
    return "All projects" if lang == "en" else "全公司"


def subtitle(report: dict[str, Any], lang: str = "zh") -> str:
    as_of = datetime.fromisoformat(report["as_of"]).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    if lang == "en":
        return f"{report['month']} · {scope_label(report, lang)} · figures as of {as_of}"
    return f"{report['month']} · {scope_label(report, lang)} · 统计截至 {as_of}"


def filename(report: dict[str, Any], ext: str) -> str:
    return f"{KINDS[report['kind']][0]}-{report['month']}-{scope_label(report)}.{ext}"


def _cell(value: Any) -> Any:
    return "—" if value is None else value


# ---------------------------------------------------------------- Excel

def xlsx(report: dict[str, Any]) -> bytes:
    """One sheet per table: the report's title, its scope and period, Chinese headers, rows and totals."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="E8EEF5")
    for table in tables(report, "zh"):
        sheet = book.create_sheet(title=table["title"][:31].replace("/", "-"))
        sheet.append([f"{report['title_zh']} · {table['title']}"])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([subtitle(report, "zh")])
        sheet.append([])
        sheet.append(table["columns"])
        for cell in sheet[4]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
        for row in table["rows"]:
            sheet.append(row)
        if table["total"] is not None:
            sheet.append(table["total"])
            for cell in sheet[sheet.max_row]:
                cell.font = bold
        for i, header in enumerate(table["columns"], start=1):
            width = max([len(str(header))] + [len(str(r[i - 1])) for r in table["rows"] if r[i - 1] is not None])
            sheet.column_dimensions[get_column_letter(i)].width = min(40, max(8, width * 2 if i == 1 else width + 4))
        sheet.freeze_panes = "A5"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- PDF

def _widths(pdf: Any, table: dict[str, Any], usable: float) -> list[float]:
    pdf.set_font("cjk", size=8)
    rows = [table["columns"], *table["rows"], *([table["total"]] if table["total"] else [])]
    natural = [max(pdf.get_string_width(str(_cell(r[i]))) for r in rows) + 3 for i in range(len(table["columns"]))]
    natural = [min(w, 60) for w in natural]
    scale = usable / sum(natural) if sum(natural) > usable else 1
    return [w * scale for w in natural]


def _fit(pdf: Any, text: str, width: float) -> str:
    if pdf.get_string_width(text) <= width - 1:
        return text
    while text and pdf.get_string_width(text + "…") > width - 1:
        text = text[:-1]
    return text + "…"


def _pdf_table(pdf: Any, table: dict[str, Any]) -> None:
    usable = pdf.w - pdf.l_margin - pdf.r_margin
    widths = _widths(pdf, table, usable)
    if pdf.get_y() > pdf.h - 40:
        pdf.add_page()
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 8, table["title"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8)

    def line(values: list[Any], fill: bool) -> None:
        if pdf.get_y() > pdf.h - 20:
            pdf.add_page()
        for w, v in zip(widths, values):
            text = str(_cell(v))
            align = "R" if isinstance(v, (int, float)) and not isinstance(v, bool) else "L"
            pdf.cell(w, 6, _fit(pdf, text, w), border=1, align=align, fill=fill)
        pdf.ln()

    pdf.set_fill_color(232, 238, 245)
    line(table["columns"], True)
    for row in table["rows"]:
        line(row, False)
    if table["total"] is not None:
        line(table["total"], True)
    pdf.ln(4)


def _pdf_bars(pdf: Any, title: str, labels: list[str], values: list[int]) -> None:
    """A small bar chart drawn with rectangles (daily calls and visits, or repairs by class)."""
    if not values or not any(values):
        return
    usable = pdf.w - pdf.l_margin - pdf.r_margin
    height = 40
    if pdf.get_y() > pdf.h - height - 30:
        pdf.add_page()
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    top, left = pdf.get_y() + 2, pdf.l_margin
    step = usable / len(values)
    top_value = max(values)
    pdf.set_fill_color(84, 112, 198)
    pdf.set_font("cjk", size=6)
    for i, (label, value) in enumerate(zip(labels, values)):
        h = height * value / top_value
        x = left + i * step
        if value:
            pdf.rect(x + step * 0.15, top + height - h, step * 0.7, h, style="F")
            pdf.set_xy(x, top + height - h - 3.5)
            pdf.cell(step, 3, str(value), align="C")
        if len(values) <= 12 or i % 2 == 0:
            pdf.set_xy(x, top + height + 0.5)
            pdf.cell(step, 3, _fit(pdf, label, step + 2), align="C")
    pdf.set_draw_color(120, 120, 120)
    pdf.line(left, top + height, left + usable, top + height)
    pdf.set_xy(pdf.l_margin, top + height + 6)


def pdf(report: dict[str, Any]) -> bytes:
    """A landscape A4 document: title, scope and period, a chart, then every table."""
    from core.pdf import document

    doc = document(orientation="L", title=f"{report['title_zh']} {report['month']}")
    doc.add_page()
    doc.set_font("cjk", size=16)
    doc.cell(0, 10, report["title_zh"], new_x="LMARGIN", new_y="NEXT")
    doc.set_font("cjk", size=9)
    doc.cell(0, 6, subtitle(report, "zh"), new_x="LMARGIN", new_y="NEXT")
    doc.ln(2)
    if report["kind"] == "calls":
        _pdf_bars(doc, "每日来电来访", [d["date"][8:] for d in report["by_day"]], [d["total"] for d in report["by_day"]])
    elif report["kind"] == "repairs":
        _pdf_bars(doc, "按区域与保修", [f"{AREA_LABELS[r['area']][0]}/{WARRANTY_LABELS[r['warranty']][0]}"
                                    for r in report["by_class"]], [r["received"] for r in report["by_class"]])
    elif report["kind"] == "cs":
        _pdf_bars(doc, "来电来访渠道", [_channel_label(r["channel"], "zh") for r in report["by_channel"]],
                  [r["total"] for r in report["by_channel"]])
    for table in tables(report, "zh"):
        _pdf_table(doc, table)
    return bytes(doc.output())
