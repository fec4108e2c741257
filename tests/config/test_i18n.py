"""Korean first: every project string is marked, translated, and shown in Korean unless a
browser asks for English."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.utils import translation

from backend.api.dashboard import CHART_LABELS
from backend.detections.admin import DetectionAdmin
from backend.notifications.admin import NotificationAdmin

REPO_ROOT = Path(__file__).resolve().parents[2]
CATALOG = REPO_ROOT / "backend/locale/ko/LC_MESSAGES/django.po"
HANGUL = re.compile("[\uac00-\ud7a3]")
PROJECT_APPS = ("cameras", "detections", "maintenance", "notifications", "vehicles")


def test_korean_is_the_default_language_and_english_the_other() -> None:
    assert settings.LANGUAGE_CODE == "ko-kr" and [code for code, _ in settings.LANGUAGES] == ["ko", "en"]
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE


def test_every_message_has_a_korean_translation() -> None:
    statistics = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(CATALOG)], capture_output=True, text=True
    )
    assert statistics.returncode == 0, statistics.stderr
    assert re.fullmatch(r"\d+ translated messages\.\n", statistics.stderr), statistics.stderr  # none fuzzy or empty


def test_the_catalog_holds_every_marked_string(tmp_path: Path) -> None:
    """makemessages over a copy of the code finds no message the committed catalog lacks,
    and none the code no longer has."""
    copy = tmp_path / "backend"
    shutil.copytree(REPO_ROOT / "backend", copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static"))
    without_settings = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "ko", "--no-obsolete", "-v0"],
        cwd=copy,
        env=without_settings,
        check=True,
    )
    fresh = copy / "locale/ko/LC_MESSAGES/django.po"
    for reference, definitions in ((fresh, CATALOG), (CATALOG, fresh)):
        compared = subprocess.run(
            ["msgcmp", "--use-untranslated", str(definitions), str(reference)], capture_output=True, text=True
        )
        assert compared.returncode == 0, f"run manage.py makemessages -l ko:\n{compared.stderr}"


def test_apps_models_fields_and_choices_are_named_in_korean() -> None:
    untranslated = []
    with translation.override("ko"):
        for model in apps.get_models():
            if model._meta.app_label not in PROJECT_APPS:
                continue
            names = [
                str(model._meta.app_config.verbose_name),
                str(model._meta.verbose_name),
                str(model._meta.verbose_name_plural),
            ]
            for field in model._meta.get_fields():
                if getattr(field, "verbose_name", None) and field.name != "id" and not field.auto_created:
                    names.append(str(field.verbose_name))
                names += [str(label) for _, label in getattr(field, "choices", None) or []]
            untranslated += [f"{model.__name__}: {name}" for name in names if not HANGUL.search(name)]
    assert untranslated == []


def test_admin_actions_and_chart_labels_are_in_korean() -> None:
    with translation.override("ko"):
        descriptions = [
            str(action.short_description)
            for admin_class in (DetectionAdmin, NotificationAdmin)
            for action in (getattr(admin_class, name) for name in admin_class.actions)
        ]
        labels = [str(label) for label in CHART_LABELS.values()]
    assert descriptions and all(HANGUL.search(text) for text in descriptions + labels)


@pytest.mark.django_db(databases="__all__")
def test_the_dashboard_speaks_korean_unless_the_browser_asks_for_english(django_user_model) -> None:
    from backend.api.roles import Role, assign_role

    user = django_user_model.objects.create_user("i18n-operator", password="pw")
    assign_role(user, Role.OPERATOR)
    client = Client()
    client.force_login(user)
    korean = client.get("/dashboard/").content.decode()
    assert '<html lang="ko">' in korean and "시간별 위반" in korean
    english = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (
        '<html lang="en">' in english
        and "Violations per hour" in english
        and not HANGUL.search(english.split("<body>")[1].split('<script id="figures"')[0].replace(user.username, ""))
    )
