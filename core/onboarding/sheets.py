"""The onboarding file layout: one sheet per kind of data, Chinese headers with English keys (`楼栋 building`)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    required: bool = False

    @property
    def header(self) -> str:
        return f"{self.zh} {self.key}"


@dataclass(frozen=True)
class Sheet:
    name: str
    zh: str
    columns: tuple[Column, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)


SHEETS: tuple[Sheet, ...] = (
    Sheet("staff", "员工", (
        Column("login", "账号", True), Column("name", "姓名", True), Column("phone", "电话"),
        Column("role", "角色", True), Column("projects", "项目"), Column("title", "职务"),
        Column("password", "初始密码"),  # blank: one is generated; either way changed at the first login
    )),
    Sheet("buildings", "楼栋", (
        Column("project", "项目", True), Column("building", "楼栋", True), Column("name", "名称"),
        Column("floors", "层数"),
    )),
    Sheet("grids", "网格", (
        Column("project", "项目", True), Column("grid", "网格", True), Column("name", "名称", True),
        Column("responsible", "负责人"),
    )),
    Sheet("units", "房屋", (
        Column("project", "项目", True), Column("building", "楼栋", True), Column("entrance", "单元"),
        Column("floor", "楼层"), Column("room", "房号", True), Column("area", "面积", True), Column("use", "用途"),
        Column("status", "状态"), Column("grid", "网格"),
    )),
    Sheet("customers", "业户", (
        Column("name", "姓名", True), Column("kind", "类型"), Column("phone", "电话"), Column("id_number", "证件号"),
        Column("email", "邮箱"), Column("project", "项目", True), Column("building", "楼栋", True),
        Column("entrance", "单元"), Column("room", "房号", True), Column("relation", "身份"),
        Column("start_date", "入住日期"),
    )),
    # 期初欠费: what each unit owed when the company came on board; handed to the plugin that collects
    # arrears (hook `import_opening_balances`). The payer: the customer named by ID number or phone, else the owner.
    Sheet("opening_balances", "期初欠费", (
        Column("project", "项目", True), Column("building", "楼栋", True), Column("entrance", "单元"),
        Column("room", "房号", True), Column("id_number", "证件号"), Column("phone", "电话"),
        Column("fee", "收费项目", True), Column("period", "所属月份", True), Column("amount", "金额", True),
        Column("due_date", "应缴日期"), Column("note", "备注"),
    )),
)
SHEET_BY_NAME = {s.name: s for s in SHEETS}

UNIT_USES = ("residential", "office", "retail", "hotel", "parking", "other")
UNIT_STATUSES = ("vacant", "sold", "occupied")
CUSTOMER_KINDS = ("person", "company")
RELATIONS = ("owner", "renter", "company", "resident")
PROJECT_KINDS = ("residential", "commercial", "industrial")

EXAMPLES: dict[str, list[list[str]]] = {
    "staff": [["hy-zhou", "周总监", "13800000001", "company_cs", "", "客服总监"],
              ["hy-chen", "陈经理", "13800000002", "project_manager", "HY", "管理处经理"],
              ["hy-wang", "王管家", "13800000003", "butler", "HY", "管家"]],
    "buildings": [["HY", "1", "1栋", "18"], ["HY", "2", "2栋", "18"]],
    "grids": [["HY", "G1", "一号网格", "hy-wang"]],
    "units": [["HY", "1", "1", "1", "101", "89.50", "residential", "occupied", "G1"],
              ["HY", "1", "1", "1", "102", "96.20", "residential", "sold", "G1"]],
    "customers": [["张伟", "person", "13912345678", "440301199001011234", "", "HY", "1", "1", "101", "owner",
                   "2020-01-01"]],
}

TENANT_TOML_EXAMPLE = '''# 公司 The company. `slug` is its short name in URLs; default: the folder name.
[company]
slug = "example"
name = "示例物业服务有限公司"
contact_name = "周总监"
contact_phone = "0755-88886666"
plugins = ["residential_grids"]          # enabled for every project

[company.service_hours]
opens = "08:00"
closes = "20:00"

# SLA overrides (see core/sla.py for the policy names) and calendar overrides.
[company.sla."complaint.general"]
resolution = "2 working_days"

[company.calendar]
overrides = []

# Settings per plugin for the whole company; a project may override them.
[settings.residential_grids]

[[projects]]
code = "HY"
name = "和苑小区"
kind = "residential"                     # residential | commercial | industrial
address = "深圳市南山区和苑路1号"
total_area = 186000
plugins = []                             # enabled for this project only, besides the company's
[projects.settings]                      # plugin settings for this project: {plugin = {key = value}}
'''
