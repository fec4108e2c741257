"""deploy/supervisor/speedcam.conf, which ./scripts/up.sh (and a bare-metal host) runs the
roles under: supervisord's own parser reads it; every role is an entry script of the
images, restarted when it dies and stopped with its whole process group."""

from __future__ import annotations

from pathlib import Path

from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

from harness.services import REPO_ROOT

ROLES = {"web", "subscriber", "ocr-worker", "alert-worker", "maintenance-worker", "beat", "flower"}


def test_every_role_is_supervised_from_its_entry_script(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SPEEDCAM_ROOT", str(REPO_ROOT))
    monkeypatch.setenv("SPEEDCAM_RUN_DIR", str(tmp_path))
    monkeypatch.setenv("SPEEDCAM_LOG_DIR", str(tmp_path))
    options = ServerOptions()
    options.realize(["-c", str(REPO_ROOT / "deploy/supervisor/speedcam.conf")])
    programs = {program.name: program for group in options.process_group_configs for program in group.process_configs}
    assert set(programs) == ROLES
    for name, program in programs.items():
        script = Path(program.command.split()[0])
        assert script.parent == REPO_ROOT / "scripts" and script.name.startswith("start_"), name
        assert script.is_file() and script.stat().st_mode & 0o111, name
        assert program.stopasgroup and program.killasgroup, f"{name}: a prefork or gunicorn child would outlive it"
        assert program.autorestart is RestartUnconditionally, name
        assert program.stdout_logfile == str(tmp_path / f"{name}.log") and program.redirect_stderr
    # The OCR worker may be in the middle of a read (OCR_TIME_LIMIT_S, 60 s by default).
    assert programs["ocr-worker"].stopwaitsecs > 60
