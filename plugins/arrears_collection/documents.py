"""Printed documents: the collection notice (费用催缴通知单), the lawyer's letter, the receipt (PDF, fpdf2
with a CJK font) and the Excel export of the reports (openpyxl)."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import date
from functools import lru_cache
from typing import Any

from core import Problem
from plugins.arrears_collection.services import KIND_LABELS, fen_in_capitals, fmt_fen

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """A font file that covers Chinese: GUANJIA_CJK_FONT, a known path, or what fontconfig offers."""
    env = os.environ.get("GUANJIA_CJK_FONT")
    if env and os.path.exists(env):
        return env
    for path in FONT_CANDIDATES:
        if os.path.exists(path):
            return path
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh"], capture_output=True, text=True, timeout=5)
            if out.returncode == 0 and out.stdout.strip() and os.path.exists(out.stdout.strip()):
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
    return None


def _pdf():
    path = cjk_font()
    if path is None:
        raise Problem(503, "Service unavailable", "No Chinese font is installed on the server (install fonts-noto-cjk "
                      "or fonts-wqy-microhei, or set GUANJIA_CJK_FONT).")
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_font("cjk", fname=path)
    pdf.add_page()
    pdf.set_margins(20, 18, 20)
    pdf.set_font("cjk", size=11)
    return pdf


def _line(pdf: Any, text: str, size: int = 11, height: float = 7, align: str = "L") -> None:
    pdf.set_font("cjk", size=size)
    pdf.multi_cell(0, height, text, align=align, new_x="LMARGIN", new_y="NEXT")


def _bills_table(pdf: Any, bills: list[dict[str, Any]]) -> int:
    widths = (28, 40, 62, 40)
    pdf.set_font("cjk", size=10)
    for w, head in zip(widths, ("月份", "房屋", "收费项目", "欠费金额(元)")):
        pdf.cell(w, 7, head, border=1, align="C")
    pdf.ln()
    total = 0
    for b in bills:
        owed = int(b["amount_fen"]) - int(b["paid_fen"])
        total += owed
        for w, value, align in zip(widths, (b["period"], f"{b['building_code']}-{b['room']}", b["fee_item_name"],
                                            fmt_fen(owed)), ("C", "C", "L", "R")):
            pdf.cell(w, 7, str(value), border=1, align=align)
        pdf.ln()
    pdf.cell(sum(widths[:3]), 7, "合计", border=1, align="R")
    pdf.cell(widths[3], 7, fmt_fen(total), border=1, align="R")
    pdf.ln(10)
    return total


def notice_pdf(ctx: dict[str, Any]) -> bytes:
    """The written collection notice or the lawyer's letter of a ladder step, stating what is owed and the
    late fee it may incur, with a line for the customer's signature."""
    task, project, customer, rules = ctx["task"], ctx["project"], ctx["customer"], ctx["rules"]
    pdf = _pdf()
    kind = task["kind"]
    title = {"notice": "费用催缴通知单", "lawyer_letter": "费用催缴律师函", "legal_notice": "欠费催缴法律事务知会函",
             "sue": "费用催缴诉讼委托书"}[kind]
    _line(pdf, project["name"], size=12, align="C")
    _line(pdf, title, size=18, height=12, align="C")
    _line(pdf, f"编号: {project['code']}-{task['period']}-{task['id']}    日期: {task['period']}", size=9, align="R")
    pdf.ln(3)
    _line(pdf, f"尊敬的 {customer['name']}:" if kind in ("notice", "lawyer_letter") else
          f"致 {ctx['legal_adviser'] or '本公司法律顾问'}:")
    body = {
        "notice": (f"截至{task['period']}月,您在本项目的物业服务等费用已欠缴{task['months_overdue']}个月,"
                   f"欠费金额共计人民币{fmt_fen(task['owed_fen'])}元(大写:{fen_in_capitals(task['owed_fen'])})。"
                   f"依据物业服务合同,逾期缴费{rules.late_fee_text()},截至目前可能产生的违约金为"
                   f"人民币{fmt_fen(task['late_fee_fen'])}元,并将随欠费时间继续增加。"
                   "请您收到本通知后尽快到管理处或通过线上渠道缴清欠费。如有疑问,请与管理处联系。"),
        "lawyer_letter": (f"受{project['name']}物业服务企业委托,现就您欠缴物业服务等费用一事致函如下:"
                          f"您已欠费{task['months_overdue']}个月,累计人民币{fmt_fen(task['owed_fen'])}元"
                          f"(大写:{fen_in_capitals(task['owed_fen'])}),可能产生的违约金为人民币"
                          f"{fmt_fen(task['late_fee_fen'])}元({rules.late_fee_text()})。"
                          "请于收函之日起十日内缴清全部欠费,逾期本所将依法采取诉讼等措施,由此产生的费用由您承担。"),
        "legal_notice": (f"客户 {customer['name']} 欠费已达{task['months_overdue']}个月,累计人民币"
                         f"{fmt_fen(task['owed_fen'])}元,可能产生违约金人民币{fmt_fen(task['late_fee_fen'])}元。"
                         "特此书面知会,请每六个月向该客户发出《费用催缴律师函》一次(共两次,特快专递送达)。"),
        "sue": (f"客户 {customer['name']} 欠费已达{task['months_overdue']}个月,累计人民币{fmt_fen(task['owed_fen'])}元,"
                f"可能产生违约金人民币{fmt_fen(task['late_fee_fen'])}元。现书面委托贵方向人民法院提起费用催缴诉讼,"
                "胜诉后请密切跟进,必要时在法定期限内申请财产保全。"),
    }[kind]
    _line(pdf, "    " + body)
    pdf.ln(3)
    _line(pdf, "欠费明细:", size=11)
    _bills_table(pdf, ctx["bills"])
    _line(pdf, f"{project['name']} 管理处" if kind != "lawyer_letter" else (ctx["legal_adviser"] or "法律顾问"), align="R")
    pdf.ln(8)
    if kind in ("notice", "lawyer_letter"):
        _line(pdf, "签收人: ________________    签收日期: ____年____月____日", size=11)
        _line(pdf, "(送达或邮寄至客户家中,请客户签收)" if kind == "notice" else "(特快专递送达)", size=9)
    return bytes(pdf.output())


def receipt_pdf(payment: dict[str, Any], project: dict[str, Any]) -> bytes:
    """The receipt of a payment (收据), with its number and the amount in figures and in capitals."""
    pdf = _pdf()
    _line(pdf, project["name"], size=12, align="C")
    _line(pdf, "收  据", size=18, height=12, align="C")
    _line(pdf, f"收据编号: {payment['receipt_no']}    日期: {payment['paid_on']}", size=10, align="R")
    pdf.ln(2)
    _line(pdf, f"今收到 {payment['customer_name']} 缴纳以下费用:")
    widths = (40, 80, 50)
    pdf.set_font("cjk", size=10)
    for w, head in zip(widths, ("月份", "收费项目 / 房屋", "金额(元)")):
        pdf.cell(w, 7, head, border=1, align="C")
    pdf.ln()
    for a in payment["allocations"]:
        for w, value, align in zip(widths, (a["period"], f"{a['fee_item_name']} / {a['room']}", fmt_fen(a["amount_fen"])),
                                   ("C", "L", "R")):
            pdf.cell(w, 7, str(value), border=1, align=align)
        pdf.ln()
    pdf.ln(3)
    _line(pdf, f"合计人民币(小写): ¥{fmt_fen(payment['amount_fen'])}")
    _line(pdf, f"合计人民币(大写): {fen_in_capitals(payment['amount_fen'])}")
    method = {"cash": "现金", "wechat": "微信", "alipay": "支付宝", "bank_card": "银行卡", "transfer": "转账"}
    _line(pdf, f"缴费方式: {method.get(payment['method'], payment['method'])}    收款人: {payment.get('received_by_name') or ''}")
    return bytes(pdf.output())


def report_xlsx(*, as_of: date, buckets: list[dict[str, Any]], rates: list[dict[str, Any]],
                actions: list[dict[str, Any]], ageing: list[dict[str, Any]]) -> bytes:
    """The reports as one workbook: ageing buckets, collection rate, ladder actions, ageing per customer.
    Amounts are written in yuan as exact decimals (fen / 100)."""
    from decimal import Decimal

    from openpyxl import Workbook
    from openpyxl.styles import Font

    def yuan(fen: int) -> Decimal:
        return Decimal(int(fen)) / 100

    wb = Workbook()
    sheets = [
        ("账龄 Ageing buckets", ["项目", "账龄(月)", "户数", "欠费(元)", "违约金(元)"],
         [[b["project_name"], b["bucket"], b["customers"], yuan(b["owed_fen"]), yuan(b["late_fee_fen"])] for b in buckets]),
        ("收缴率 Collection rate", ["项目", "月份", "应收(元)", "实收(元)", "收缴率"],
         [[r["project_name"], r["period"], yuan(r["billed_fen"]), yuan(r["collected_fen"]), r["rate"]] for r in rates]),
        ("催缴行动 Ladder actions", ["项目", "步骤", "状态", "结果", "件数", "涉及欠费(元)"],
         [[a["project_id"], a["label_zh"], a["status"], a["outcome"], a["steps"], yuan(a["owed_fen"])] for a in actions]),
        ("欠费明细 Arrears", ["项目", "客户", "欠费月数", "欠费(元)", "违约金(元)", "账龄"],
         [[a["project_id"], a["customer_name"], a["months"], yuan(a["owed_fen"]), yuan(a["late_fee_fen"]), a["bucket"]]
          for a in ageing]),
    ]
    first = True
    for title, head, rows in sheets:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = title[:31]
        ws.append([f"截至 as of {as_of.isoformat()}"])
        ws.append(head)
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
        for row in ws.iter_rows(min_row=3):
            for cell in row:
                if isinstance(cell.value, Decimal):
                    cell.number_format = "#,##0.00"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, (kind, kind))[0]
