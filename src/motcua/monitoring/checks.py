"""System check (``manage.py check``): every rule-set file must be readable and consistent."""

from __future__ import annotations

from django.core import checks


@checks.register()
def rule_sets_are_valid(app_configs=None, **kwargs):
    from .scorecard import RuleSetError, parse_rule_set, rule_set_files

    errors = []
    files = rule_set_files()
    for path in files:
        try:
            parse_rule_set(path.read_bytes(), str(path))
        except (OSError, RuleSetError) as exc:
            errors.append(
                checks.Error(
                    f"Bộ quy tắc chấm điểm không dùng được: {exc}",
                    hint="Sửa tệp theo docs/monitoring.md, mục «Bộ quy tắc chấm điểm».",
                    id="monitoring.E001",
                )
            )
    if not files:
        errors.append(
            checks.Error("Không tìm thấy tệp bộ quy tắc chấm điểm nào.", id="monitoring.E002")
        )
    return errors
