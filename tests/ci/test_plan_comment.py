"""ci.plan_comment: plans rendered as one Markdown comment, created once and then updated."""

from __future__ import annotations

import json
import re

import pytest

from ci import plan_comment
from ci.github import GitHubError, upsert_comment
from ci.plan_comment import MARKER, MAX_BODY, EnvPlan, PlanFilesError, load_plans, render
from fakes.github import ACTIONS_BOT, BOT, running_github

REPO_NAME = "acme/churn"


def plan(env: str, actions: list[dict], unchanged: int = 0, **extra) -> dict:
    """A plan in the shape `schedule.py plan --json` prints."""
    counts = {k: 0 for k in ("create", "update", "pause", "resume", "delete")}
    for action in actions:
        counts[action["action"]] += 1
    return {
        "environment": env,
        "parent": f"projects/acme-churn-{env}/locations/europe-west4",
        "has_changes": bool(actions),
        "summary": {**counts, "unchanged": unchanged},
        "actions": actions,
        "conflicts": [],
        "unowned": [],
        "list_calls": 1,
        "listed": unchanged + len(actions),
        **extra,
    }


UPDATE = {
    "action": "update",
    "job": "dev-churn-training-weekly",
    "schedule": "churn-training-weekly",
    "changes": [{"field": "schedule", "old": "0 3 * * 1", "new": "0 4 * * 2"}],
    "update_mask": ["schedule"],
}
DELETE = {"action": "delete", "job": "dev-old", "reason": "its schedule file is gone"}
CREATE = {
    "action": "create",
    "job": "dev-churn-scoring-daily",
    "schedule": "churn-scoring-daily",
    "fields": {"schedule": "30 5 * * *", "http_target.body.parameters": {"a": 1}},
    "paused": True,
}


def write_results(directory, env: str, code: int, stdout: str = "", stderr: str = "") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{env}.rc").write_text(f"{code}\n")
    (directory / f"{env}.json").write_text(stdout)
    (directory / f"{env}.err").write_text(stderr)


def table_rows(markdown: str) -> list[list[str]]:
    """Cells of every table row, split on pipes that are not escaped."""
    rows = []
    for line in markdown.splitlines():
        line = line.strip()
        if line.startswith("|") and not set(line) <= set("|-"):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_changes_are_shown_field_by_field_under_the_marker():
    text = render([EnvPlan("dev", 2, plan("dev", [UPDATE, DELETE], unchanged=1))], "abc123def4567")
    assert text.startswith(MARKER + "\n")
    assert "`abc123def456`" in text  # commit shortened to 12
    assert "### 📝 `dev`: 1 to update, 1 to delete; 1 unchanged" in text
    assert ["`schedule`", '`"0 3 * * 1"`', '`"0 4 * * 2"`'] in table_rows(text)
    assert (
        "**~ update** `dev-churn-training-weekly` — `schedules/churn-training-weekly.yaml`" in text
    )
    assert "**- delete** `dev-old` — its schedule file is gone" in text


def test_no_changes_says_so():
    text = render([EnvPlan("prod", 0, plan("prod", [], unchanged=2))])
    assert "### ✅ `prod`: no changes (2 job(s) match the schedule files)" in text


def test_a_create_lists_its_fields_folded_and_says_it_will_be_paused():
    text = render([EnvPlan("dev", 2, plan("dev", [CREATE]))])
    assert "<details><summary>2 field(s)</summary>" in text
    assert ["`http_target.body.parameters`", '`{"a": 1}`'] in table_rows(text)
    assert "then paused (`enabled: false`)" in text


def test_values_with_pipes_and_backticks_stay_inside_their_cell():
    change = {"field": "description", "old": "a | b", "new": "uses `code` here"}
    action = {**UPDATE, "changes": [change]}
    rows = table_rows(render([EnvPlan("dev", 2, plan("dev", [action]))]))
    assert rows[-1] == ["`description`", '`"a \\| b"`', '`` "uses `code` here" ``']


def test_a_failed_plan_shows_the_tail_of_its_error_in_a_safe_fence():
    error = "\n".join(f"line {i}" for i in range(100)) + "\n```\nPermissionDenied: 403"
    text = render([EnvPlan("prod", 1, None, error)])
    assert "### ❌ `prod`: the plan failed (exit 1)" in text
    assert "line 0\n" not in text and "line 99" in text
    assert "````text\n" in text  # longer than the ``` inside the error


def test_conflicts_and_unowned_jobs_are_listed():
    data = plan("dev", [], conflicts=["job dev-x exists but is not ours"], unowned=["dev-x"])
    text = render([EnvPlan("dev", 1, data, "1 conflict: nothing applied")])
    assert "### ❌ `dev`: the plan failed (exit 1): no changes" in text
    assert "1 conflict: nothing applied" in text
    assert "conflict: job dev-x exists but is not ours" in text
    assert "`dev-x`" in text


def test_a_huge_plan_still_fits_in_one_comment():
    fields = {f"field_{i}": "x" * 200 for i in range(40)}
    actions = [{**CREATE, "job": f"dev-{i}", "fields": fields} for i in range(100)]
    body = plan_comment.render_bounded([EnvPlan("dev", 2, plan("dev", actions))], "abc")
    assert len(body) <= MAX_BODY
    assert body.startswith(MARKER)
    assert "the CI log has the full plan" in body


def test_results_are_loaded_per_environment_and_exit_codes_decide_failure(tmp_path):
    write_results(tmp_path, "dev", 2, json.dumps(plan("dev", [UPDATE])))
    write_results(tmp_path, "prod", 1, "", "cannot list jobs: PermissionDenied")
    write_results(tmp_path, "qa", 0, "{not json")
    write_results(tmp_path, "clash", 1, json.dumps(plan("clash", [])), "conflict")
    write_results(tmp_path, "stage", 2, "")
    (tmp_path / "odd.rc").write_text("boom")
    results = {r.env: r for r in load_plans(tmp_path)}
    assert list(results) == ["clash", "dev", "odd", "prod", "qa", "stage"]
    assert results["clash"].failed and results["clash"].plan["environment"] == "clash"
    assert not results["dev"].failed
    assert results["prod"].failed and "PermissionDenied" in results["prod"].error
    assert results["qa"].failed and "qa.json:1: not valid JSON" in results["qa"].error
    assert results["stage"].failed and "not valid JSON" in results["stage"].error
    assert results["odd"].failed and "expected an exit code" in results["odd"].error


def test_missing_or_empty_results_directory_is_a_clear_error(tmp_path):
    with pytest.raises(PlanFilesError, match="no such directory"):
        load_plans(tmp_path / "nope")
    with pytest.raises(PlanFilesError, match=r"no <env>\.rc files"):
        load_plans(tmp_path)


def run_cli(monkeypatch, api: str, directory, *extra: str, token: str = "test-token") -> int:
    monkeypatch.setenv("GITHUB_TOKEN", token)
    argv = ["--dir", str(directory), "--post", "--repo", REPO_NAME, "--pr", "7", "--api-url", api]
    return plan_comment.main([*argv, *extra])


def test_first_run_creates_the_comment_later_runs_update_it(tmp_path, monkeypatch, capsys):
    write_results(tmp_path, "dev", 2, json.dumps(plan("dev", [UPDATE])))
    write_results(tmp_path, "prod", 0, json.dumps(plan("prod", [], unchanged=2)))
    with running_github() as (fake, api):
        fake.add(REPO_NAME, 7, "LGTM")  # someone else's comment is left alone
        fake.add(REPO_NAME, 7, f"{MARKER}\ncopied marker")  # ...even with the marker
        assert run_cli(monkeypatch, api, tmp_path, "--commit", "1111") == 0
        assert "created comment" in capsys.readouterr().err
        write_results(tmp_path, "dev", 0, json.dumps(plan("dev", [], unchanged=2)))
        assert run_cli(monkeypatch, api, tmp_path, "--commit", "2222") == 0
        assert "updated comment" in capsys.readouterr().err
        thread = fake.comments[(REPO_NAME, 7)]
    assert thread[0]["body"] == "LGTM"
    assert thread[1]["body"].endswith("copied marker")
    assert len(thread) == 3
    assert thread[2]["user"]["login"] == BOT
    assert "`2222`" in thread[2]["body"] and "`1111`" not in thread[2]["body"]
    assert "### ✅ `dev`: no changes" in thread[2]["body"]


def test_the_marked_comment_is_found_beyond_the_first_page():
    with running_github() as (fake, api):
        for i in range(150):
            fake.add(REPO_NAME, 7, f"comment {i}")
        marked = fake.add(REPO_NAME, 7, f"{MARKER}\nold plan", author=BOT)
        outcome = upsert_comment(api, REPO_NAME, 7, fake.token, f"{MARKER}\nnew plan", MARKER)
        assert outcome.action == "updated"
        assert fake.find(marked["id"])["body"].endswith("new plan")
        assert len(fake.comments[(REPO_NAME, 7)]) == 151
        pages = [path for method, path in fake.requests if method == "GET"]
    assert pages[0] == "/user"
    assert len(pages) == 3  # /user, then two pages of comments


def test_a_marked_comment_by_someone_else_is_never_edited():
    """Issue 10 A4e: anyone can paste the marker; only the bot's own comment is updated."""
    with running_github() as (fake, api):
        planted = fake.add(REPO_NAME, 7, f"{MARKER}\nplanted by a contributor", author="mallory")
        ours = fake.add(REPO_NAME, 7, f"{MARKER}\nold plan", author=BOT)
        outcome = upsert_comment(api, REPO_NAME, 7, fake.token, f"{MARKER}\nnew plan", MARKER)
        assert outcome.action == "updated"
        assert fake.find(planted["id"])["body"].endswith("planted by a contributor")
        assert fake.find(ours["id"])["body"].endswith("new plan")
        # Only someone else's marked comment: a new comment, the planted one untouched.
        fake.comments.clear()
        planted = fake.add(REPO_NAME, 8, f"{MARKER}\nplanted", author="mallory")
        outcome = upsert_comment(api, REPO_NAME, 8, fake.token, f"{MARKER}\nplan", MARKER)
        assert outcome.action == "created"
        thread = fake.comments[(REPO_NAME, 8)]
    assert [c["user"]["login"] for c in thread] == ["mallory", BOT]
    assert thread[0]["body"].endswith("planted")


def test_an_app_token_needs_the_author_named_and_then_finds_its_own_comment():
    with running_github() as (fake, api):
        fake.add(REPO_NAME, 7, f"{MARKER}\nby a person", author="alice")
        ours = fake.add(REPO_NAME, 7, f"{MARKER}\nold", author=ACTIONS_BOT)
        with pytest.raises(GitHubError, match=r"HTTP 403.*needs --author"):
            upsert_comment(api, REPO_NAME, 7, "actions-token", f"{MARKER}\nnew", MARKER)
        outcome = upsert_comment(
            api, REPO_NAME, 7, "actions-token", f"{MARKER}\nnew", MARKER, author=ACTIONS_BOT
        )
        assert outcome.action == "updated"
        assert fake.find(ours["id"])["body"].endswith("new")
        assert fake.comments[(REPO_NAME, 7)][0]["body"].endswith("by a person")


def test_a_failed_plan_is_posted_and_then_fails_the_job(tmp_path, monkeypatch, capsys):
    write_results(tmp_path, "dev", 2, json.dumps(plan("dev", [UPDATE])))
    write_results(tmp_path, "prod", 1, "", "cannot list jobs in projects/p: PermissionDenied")
    with running_github() as (fake, api):
        assert run_cli(monkeypatch, api, tmp_path) == 1
        (comment,) = fake.comments[(REPO_NAME, 7)]
    assert "PermissionDenied" in comment["body"]
    assert "the plan failed for: prod" in capsys.readouterr().err


def test_github_errors_name_the_call_and_status(tmp_path, monkeypatch, capsys):
    write_results(tmp_path, "dev", 0, json.dumps(plan("dev", [])))
    with running_github() as (fake, api):
        fake.inject_fault("*", 403)
        assert run_cli(monkeypatch, api, tmp_path) == 1
        err = capsys.readouterr().err
        assert "GET" in err and "HTTP 403" in err and "injected fault" in err
        assert run_cli(monkeypatch, api, tmp_path, token="wrong") == 1
        assert "HTTP 401" in capsys.readouterr().err
        assert fake.comments == {}
        with pytest.raises(GitHubError, match="HTTP 401"):
            upsert_comment(api, REPO_NAME, 7, "wrong", "x", MARKER)


def test_post_without_token_or_pr_says_what_is_missing(tmp_path, monkeypatch, capsys):
    write_results(tmp_path, "dev", 0, json.dumps(plan("dev", [])))
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert plan_comment.main(["--dir", str(tmp_path), "--post", "--repo", REPO_NAME]) == 1
    assert "--post needs --pr, GITHUB_TOKEN" in capsys.readouterr().err


def test_without_post_the_comment_is_printed_only(tmp_path, capsys):
    write_results(tmp_path, "dev", 2, json.dumps(plan("dev", [DELETE])))
    assert plan_comment.main(["--dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith(MARKER)
