"""Move-in and decoration (入伙与装修): Move-in batches, decoration applications and permits, moving large items out."""
from core import PluginMeta

plugin = PluginMeta(
    name="move_in_decoration",
    version="0.1.0",
    title="Move-in and decoration",
    title_zh="入伙与装修",
    description="Move-in batches, decoration applications and permits, moving large items out.",
    core_version=">=0.1,<1",
    settings={
        # seed 001: a household waits at most 15 minutes and is served in at most 30 minutes
        "wait_target_minutes": 15,
        "processing_target_minutes": 30,
        # documents checked at the move-in desk
        "move_in_documents": ["身份证 ID card", "购房合同 Purchase contract", "入伙通知书 Move-in notice"],
        # quiet hours: no decoration works (ranges may cross midnight); the permit's work hours are the rest
        "quiet_hours": [["12:00", "14:00"], ["18:00", "08:00"]],
        # False: no works at all on weekends and statutory holidays (the tenant's working-day calendar)
        "works_on_rest_days": True,
        "permit_rules": [
            "不得拆改承重墙、梁、柱及外立面 No change to load-bearing walls, beams, columns or the facade",
            "不得改变防水层及燃气管道 No change to waterproofing or gas pipes",
            "建筑垃圾袋装并运至指定地点 Debris bagged and taken to the designated place",
            "施工人员凭证出入 Workers enter with their pass",
            "装修期间配备灭火器 A fire extinguisher on site during the works",
        ],
        # how the applicant is told of problems found in review (the same day): sms, email, wechat or in_app
        "problem_notice_channel": "sms",
        # how the move-in notice and its attachments are delivered to the customer
        "notice_channel": "sms",
        # attachments (drawings, patrol photos): largest file, in bytes
        "max_upload_bytes": 10 * 1024 * 1024,
    },
    # Moving large items out uses the release gate (`resolve_release_gate`) that commercial_buildings
    # offers. It is not a hard dependency: without the gate the rest of the plugin works and moving out
    # answers 409 saying the gate is missing (the registry has no notion of an optional dependency).
    dependencies=(),
    project_kinds=None,
)
