"""Onboarding a company from `tenants/<slug>/`: `tenant.toml` plus spreadsheets, validated then imported at once."""
from core.onboarding.files import export_project, export_rows, write_templates
from core.onboarding.reading import Bundle, RowError, load_folder, load_upload
from core.onboarding.service import OnboardingInvalid, Report, onboard, validate
from core.onboarding.sheets import SHEETS

__all__ = ["SHEETS", "Bundle", "OnboardingInvalid", "Report", "RowError", "export_project", "export_rows",
           "load_folder", "load_upload", "onboard", "validate", "write_templates"]
