"""Manifest discovery, the three layouts, env references and settings resolution."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from kiket_sdk import _manifest
from kiket_sdk._exceptions import ConfigurationError
from kiket_sdk._manifest import (
    MANIFEST_SEARCH_ORDER,
    ExtensionManifest,
    HookSpec,
    OutputFieldSpec,
    SettingSpec,
    find_manifest,
    known_keys,
    load_manifest,
    parse_manifest,
    resolve_env_reference,
    resolve_settings,
    resolve_webhook_secret,
    secret_env_name,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"
FLAT = FIXTURES / "mailjet-inbound.flat-manifest.yaml"
MAILJET = FIXTURES / "mailjet-inbound.kiket-manifest.yaml"
TWILIO = FIXTURES / "twilio.kiket-manifest.yaml"
SET = {"KIKET_WEBHOOK_SECRET": "whsec-from-env"}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(path: Path, environ: dict[str, str] | None = None) -> ExtensionManifest:
    manifest = load_manifest(path, environ={} if environ is None else environ)
    assert manifest is not None
    return manifest


# --- the real manifests ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_fixture_loads(path: Path) -> None:
    manifest = load(path, SET)
    assert manifest.path == path
    assert manifest.id is not None
    assert manifest.id.startswith("dev.kiket.ext.")
    assert isinstance(manifest.version, str)
    assert manifest.delivery_secret


def test_flat_fixture_reads_bare_name_as_env_variable_and_warns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for env_value in ("whsec-from-env", None):
        if env_value is None:
            monkeypatch.delenv("KIKET_WEBHOOK_SECRET", raising=False)
        else:
            monkeypatch.setenv("KIKET_WEBHOOK_SECRET", env_value)
        manifest = load_manifest(FLAT)
        assert manifest is not None
        assert manifest.id == "dev.kiket.ext.mailjet-inbound"
        assert manifest.version == "1.2.0"
        # Never the public text itself: that would let anyone sign deliveries.
        assert manifest.delivery_secret == env_value
        assert manifest.delivery_secret_ref == "KIKET_WEBHOOK_SECRET"
        assert manifest.settings == ()
        assert manifest.defaults == {}
        assert manifest.secret_keys == ()
        assert len(manifest.problems) == 1
        assert manifest.problems[0].startswith(
            "delivery_secret is a bare environment variable name; "
            "it is read as env.KIKET_WEBHOOK_SECRET"
        )


def test_mailjet_fixture_with_secret_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIKET_WEBHOOK_SECRET", "whsec-mailjet")
    manifest = load_manifest(MAILJET)
    assert manifest is not None
    assert (manifest.id, manifest.version, manifest.name) == (
        "dev.kiket.ext.mailjet-inbound",
        "1.2.0",
        "Mailjet Inbound",
    )
    assert manifest.delivery_secret == "whsec-mailjet"
    assert manifest.delivery_secret_ref == "env.KIKET_WEBHOOK_SECRET"
    assert manifest.defaults == {
        "default_issue_type": "Task",
        "create_from_unknown_senders": "false",
    }
    assert [s.key for s in manifest.settings] == [
        "default_project_id",
        "default_issue_type",
        "create_from_unknown_senders",
    ]
    assert manifest.settings[0] == SettingSpec(
        key="default_project_id", type="project", label="Default Project"
    )
    assert manifest.secret_keys == (
        "MAILJET_API_KEY",
        "MAILJET_SECRET_KEY",
        "MAILJET_WEBHOOK_TOKEN",
    )
    assert manifest.required_secrets == ("MAILJET_API_KEY", "MAILJET_SECRET_KEY")
    assert manifest.hooks == (HookSpec("external.webhook.inbound_email", 30000, 2),)
    assert manifest.permissions == ("issues:write", "comments:write", "users:read")
    field = manifest.output_fields["inbound_email"]
    assert (field.key, field.label, field.type, field.icon) == (
        "inbound_email",
        "Mailjet Inbound Email",
        "copyable",
        "envelope",
    )
    assert field.description is not None
    assert field.description.startswith("Send emails to this address")
    assert manifest.problems == ()
    assert manifest.raw["model_version"] == "1.0"


def test_mailjet_fixture_with_secret_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIKET_WEBHOOK_SECRET", raising=False)
    manifest = load_manifest(MAILJET)
    assert manifest is not None
    assert manifest.delivery_secret is None
    assert manifest.delivery_secret_ref == "env.KIKET_WEBHOOK_SECRET"
    assert manifest.problems == (
        "extension.callback.secret refers to environment variable KIKET_WEBHOOK_SECRET, "
        "which is not set.",
    )


def test_twilio_fixture() -> None:
    manifest = load(TWILIO, SET)
    assert (manifest.id, manifest.version) == ("dev.kiket.ext.twilio", "1.0.0")
    assert manifest.name == "Twilio SMS & Voice Notifications"
    assert manifest.delivery_secret == "whsec-from-env"
    defaults = manifest.defaults
    assert defaults["RATE_LIMIT_PER_MINUTE"] == "10"
    assert defaults["REQUIRE_OPT_IN"] == "true"
    assert defaults["DEFAULT_COUNTRY_CODE"] == "US"
    assert defaults["RETRY_ATTEMPTS"] == "3"
    assert defaults["TIMEOUT_SECONDS"] == "30"
    assert defaults["transition_sms"].startswith('[Kiket] Issue "{{ issue.title }}"')
    assert "TWILIO_ACCOUNT_SID" not in defaults
    assert manifest.secret_keys == ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
    assert manifest.required_secrets == ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
    sid = next(s for s in manifest.settings if s.key == "TWILIO_ACCOUNT_SID")
    assert sid == SettingSpec(
        "TWILIO_ACCOUNT_SID", secret=True, type="string", label="Account SID", required=True
    )
    phone = next(s for s in manifest.settings if s.key == "TWILIO_PHONE_NUMBER")
    assert (phone.secret, phone.required, phone.default) == (False, True, None)
    assert [h.event for h in manifest.hooks] == [
        "issue.transitioned",
        "issue.assigned",
        "workflow.sla_breach",
        "external.webhook.status_callback",
    ]
    assert manifest.hooks[2] == HookSpec("workflow.sla_breach", 5000, 2)
    assert manifest.hooks[3] == HookSpec("external.webhook.status_callback", 10000, 0)
    assert dict(manifest.output_fields) == {}
    assert manifest.permissions == ("issues:read", "users:read", "notifications:write")
    assert manifest.problems == ()


def test_twilio_settings_pick_up_secret_env_overrides() -> None:
    env = {"KIKET_SECRET_TWILIO_AUTH_TOKEN": "tok", "KIKET_SECRET_RETRY_ATTEMPTS": "9"}
    settings = resolve_settings(load(TWILIO, env), environ=env)
    assert settings["TWILIO_AUTH_TOKEN"] == "tok"
    assert "TWILIO_ACCOUNT_SID" not in settings
    assert settings["RETRY_ATTEMPTS"] == "3"  # not a secret key: no env override
    assert settings["REQUIRE_OPT_IN"] == "true"  # defaults stay as written


def test_mailjet_settings_include_secrets_list_overrides() -> None:
    env = {**SET, "KIKET_SECRET_MAILJET_API_KEY": "mj-key"}
    settings = resolve_settings(load(MAILJET, env), environ=env)
    assert settings == {
        "default_issue_type": "Task",
        "create_from_unknown_senders": "false",
        "MAILJET_API_KEY": "mj-key",
    }


# --- discovery --------------------------------------------------------------------------------


def test_search_order(tmp_path: Path) -> None:
    for index, name in enumerate(MANIFEST_SEARCH_ORDER):
        write(tmp_path / name, f"id: ext.{index}\nversion: '1'\n")
    for index, name in enumerate(MANIFEST_SEARCH_ORDER):
        assert find_manifest(tmp_path) == tmp_path / name
        manifest = load_manifest(search_dir=str(tmp_path), environ={})
        assert manifest is not None
        assert manifest.id == f"ext.{index}"
        (tmp_path / name).unlink()
    assert find_manifest(tmp_path) is None
    assert load_manifest(search_dir=tmp_path) is None


def test_kiket_folder_manifest_is_found_last(tmp_path: Path) -> None:
    write(tmp_path / ".kiket" / "manifest.yaml", "id: hidden\n")
    assert find_manifest(tmp_path) == tmp_path / ".kiket" / "manifest.yaml"
    write(tmp_path / "manifest.yml", "id: visible\n")
    assert find_manifest(tmp_path) == tmp_path / "manifest.yml"


def test_search_uses_cwd_skips_directories_and_ignores_parents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "extension.yaml", "id: parent\n")
    child = tmp_path / "child"
    (child / "extension.yaml").mkdir(parents=True)  # a directory, not a manifest
    monkeypatch.chdir(child)
    assert find_manifest() is None
    assert load_manifest() is None
    write(child / "manifest.yaml", "id: child\n")
    assert find_manifest() == child / "manifest.yaml"


# --- errors -----------------------------------------------------------------------------------


def test_explicit_missing_path_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "extension.yaml"
    with pytest.raises(ConfigurationError, match=re.escape(str(missing))):
        load_manifest(missing)
    with pytest.raises(ConfigurationError, match="is not a file"):
        load_manifest(tmp_path)


def test_broken_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "extension.yaml", "id: x\nversion: '1'\nsettings:\n  - key: [a\n")
    with pytest.raises(ConfigurationError) as info:
        load_manifest(search_dir=tmp_path)
    message = str(info.value)
    assert str(path) in message
    assert re.search(r"line \d+", message)
    assert isinstance(info.value.__cause__, Exception)


def test_tab_indentation_reports_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "manifest.yaml", "id: x\nextension:\n\tid: y\n")
    with pytest.raises(ConfigurationError, match=r"manifest\.yaml is not valid YAML at line 3"):
        load_manifest(path)


@pytest.mark.parametrize(
    ("text", "found"), [("- a\n- b\n", "list"), ("just text\n", "str"), ("", "nothing")]
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, found: str) -> None:
    path = write(tmp_path / "extension.yml", text)
    with pytest.raises(ConfigurationError, match=f"extension.yml must be a YAML mapping.*{found}"):
        load_manifest(path)


# --- layouts ----------------------------------------------------------------------------------


def test_layout_2_configuration_properties(tmp_path: Path) -> None:
    path = write(
        tmp_path / "manifest.yaml",
        """
id: com.example.crm
version: 2.1
delivery:
  callback:
    secret: ${CRM_SECRET}
configuration:
  type: object
  properties:
    apiKey:
      type: string
      secret: true
    pageSize:
      type: integer
      default: 50
    archive:
      type: boolean
      default: "false"
""",
    )
    manifest = load(path, {"CRM_SECRET": "crm-whsec"})
    assert (manifest.id, manifest.version) == ("com.example.crm", "2.1")
    assert manifest.delivery_secret == "crm-whsec"
    assert manifest.delivery_secret_ref == "${CRM_SECRET}"
    assert manifest.defaults == {"pageSize": 50, "archive": "false"}
    assert manifest.secret_keys == ("apiKey",)
    assert [s.type for s in manifest.settings] == ["string", "integer", "boolean"]
    assert manifest.problems == ("version 2.1 was read as a YAML float; quote it.",)
    env = {"KIKET_SECRET_APIKEY": "k-1"}
    assert resolve_settings(manifest, environ=env)["apiKey"] == "k-1"


def test_layout_2_with_identity_under_extension() -> None:
    manifest = parse_manifest(
        {
            "extension": {"id": "com.example.x", "version": 1.0, "name": "X"},
            "delivery": {"callback": {"secret": "env:X_SECRET"}},
            "configuration": {"properties": {"region": {"default": "eu"}}},
        },
        environ={"X_SECRET": "s3"},
    )
    assert (manifest.id, manifest.version, manifest.name) == ("com.example.x", "1.0", "X")
    assert manifest.delivery_secret == "s3"
    assert manifest.defaults == {"region": "eu"}
    assert manifest.path is None


def test_flat_layout_like_the_seed_readme() -> None:
    manifest = parse_manifest(
        {
            "id": "com.example.marketing",
            "version": "1.0.0",
            "delivery_secret": "sh_production_secret",
            "settings": [
                {"key": "API_KEY", "secret": True},
                {"key": "MAX_RETRIES", "default": 3},
                {"key": "TIMEOUT_MS", "default": 5000},
            ],
        },
        environ={},
    )
    assert manifest.delivery_secret == "sh_production_secret"
    assert manifest.defaults == {"MAX_RETRIES": 3, "TIMEOUT_MS": 5000}
    assert manifest.secret_keys == ("API_KEY",)
    assert manifest.problems == (
        "delivery_secret is a literal secret in the manifest file; write "
        "env.KIKET_WEBHOOK_SECRET and set that variable instead.",
    )


def test_numeric_and_missing_versions() -> None:
    assert parse_manifest({"id": "a", "version": 1.0}, environ={}).version == "1.0"
    assert parse_manifest({"id": "a", "version": 3}, environ={}).version == "3"
    assert parse_manifest({"id": "a", "version": "1.10"}, environ={}).version == "1.10"
    empty = parse_manifest({}, environ={})
    assert (empty.id, empty.version, empty.delivery_secret) == (None, None, None)
    assert len(empty.problems) == 2
    assert "no extension id" in empty.problems[0]
    assert "no version" in empty.problems[1]


def test_problems_for_odd_content() -> None:
    manifest = parse_manifest(
        {
            "id": "a",
            "version": "1",
            "settings": [
                {"key": "TOKEN", "secret": True, "default": "hunter2"},
                {"key": "TOKEN", "default": "again"},
                {"default": "no key"},
                {"key": "FROM_ENV", "default": "env.UNSET_VAR"},
                {"key": "FLAG", "secret": "maybe"},
            ],
            "extension": {
                "output_fields": {
                    "link": {"type": "url"},
                    "chart": {"type": "sparkline", "label": "Chart"},
                    "plain": None,
                },
                "hooks": [{"event": "issue.created", "timeout": "soon"}, {"timeout": 5}],
                "permissions": "issues:read",
            },
        },
        environ={},
    )
    text = "\n".join(manifest.problems)
    assert "Setting TOKEN is secret but has a literal default" in text
    assert "KIKET_SECRET_TOKEN" in text
    assert "Setting TOKEN is declared twice" in text
    assert "`settings[2]` has no `key`" in text
    assert "Setting FROM_ENV defaults to env var UNSET_VAR, which is not set." in text
    assert "`settings[4].secret` should be true or false" in text
    assert "Output field chart has unknown type 'sparkline'" in text
    assert "known: badge, code, copyable, status, url" in text
    # paths name where the value was read: these sections sit under `extension:`
    assert "`extension.hooks[0].timeout` should be a whole number" in text
    assert "`extension.hooks[1]` has no `event`" in text
    assert "`extension.permissions` should be a list" in text
    assert manifest.output_fields["link"] == OutputFieldSpec("link", type="url")
    assert manifest.output_fields["plain"].type == "copyable"
    assert manifest.hooks == (HookSpec("issue.created"),)
    assert manifest.settings[0].default == "hunter2"
    assert manifest.permissions == ()


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.name)
def test_real_manifests_have_no_unknown_keys(path: Path) -> None:
    assert not [p for p in load(path, SET).problems if p.startswith("Unknown key")]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"setings": []}, "Unknown key `setings` (did you mean 'settings'?)"),
        ({"versoin": "1"}, "Unknown key `versoin` (did you mean 'version'?)"),
        ({"extension": {"versoin": "1"}}, "`extension.versoin` (did you mean 'version'?)"),
        (
            {"settings": [{"key": "A", "defualt": 1}]},
            "`settings[0].defualt` (did you mean 'default'?)",
        ),
        (
            {"configuration": {"properties": {"A": {"secert": True}}}},
            "`configuration.properties.A.secert` (did you mean 'secret'?)",
        ),
        (
            {"configuration": {"properties": {"A": {}}, "requird": ["A"]}},
            "`configuration.requird` (did you mean 'required'?)",
        ),
        (
            {"extension": {"configuration": {"A": {"lable": "A"}}}},
            "`extension.configuration.A.lable` (did you mean 'label'?)",
        ),
        ({"delivery": {"calback": {}}}, "`delivery.calback` (did you mean 'callback'?)"),
        (
            {"delivery": {"callback": {"secert": "env.S"}}},
            "`delivery.callback.secert` (did you mean 'secret'?)",
        ),
        (
            {"extension": {"callback": {"secert": "env.S"}}},
            "`extension.callback.secert` (did you mean 'secret'?)",
        ),
        (
            {"extension": {"hooks": [{"event": "e", "retires": 1}]}},
            "`extension.hooks[0].retires` (did you mean 'retries'?)",
        ),
        (
            {"extension": {"secrets": [{"key": "K", "requird": True}]}},
            "`extension.secrets[0].requird` (did you mean 'required'?)",
        ),
        (
            {"output_fields": {"x": {"lable": "X"}}},
            "`output_fields.x.lable` (did you mean 'label'?)",
        ),
        (
            {"extension": {"custom_data": {"permissions": [{"modul": "m"}]}}},
            "`extension.custom_data.permissions[0].modul` (did you mean 'module'?)",
        ),
        ({"zzz": 1}, "Unknown key `zzz`; it was ignored."),
        # relations difflib cannot see: the alias tables of known_keys
        (
            {"delivery": {"secret": "env.S"}},
            "`delivery.secret` (did you mean 'delivery.callback.secret'?)",
        ),
        (
            {"extension": {"delivery": {"url": "https://x"}}},
            "`extension.delivery.url` (did you mean 'extension.delivery.callback.url'?)",
        ),
        ({"webhook_secret": "env.S"}, "`webhook_secret` (did you mean 'delivery_secret'?)"),
        ({"secret": "env.S"}, "`secret` (did you mean 'delivery_secret'?)"),
        (
            {"extension": {"callback": {"signing_secret": "env.S"}}},
            "`extension.callback.signing_secret` (did you mean 'secret'?)",
        ),
        (
            {"settings": [{"key": "A", "sensitive": True}]},
            "`settings[0].sensitive` (did you mean 'secret'?)",
        ),
        (
            {"extension": {"hooks": [{"event": "e", "on": "x"}]}},
            "`extension.hooks[0].on` (did you mean 'event'?)",
        ),
    ],
)
def test_unknown_keys_are_reported_at_every_level(data: dict[str, object], problem: str) -> None:
    manifest = parse_manifest({"id": "a", "version": "1", **data}, environ={})
    unknown = [p for p in manifest.problems if p.startswith("Unknown key")]
    assert len(unknown) == 1, manifest.problems
    assert problem in unknown[0]
    assert unknown[0].endswith("; it was ignored.")


def test_a_setting_written_with_name_is_told_to_use_key() -> None:
    manifest = parse_manifest({"id": "a", "version": "1", "settings": [{"name": "A"}]}, environ={})
    assert "`settings[0]` has no `key`; it was ignored." in manifest.problems
    assert "Unknown key `settings[0].name` (did you mean 'key'?); it was ignored." in (
        manifest.problems
    )


def _alias_tables() -> list[tuple[str, str, str]]:
    """(table name, alias, target) of every ``*_ALIASES`` table in known_keys."""
    return [
        (name, alias, target)
        for name in known_keys.__all__
        if name.endswith("_ALIASES")
        for alias, target in getattr(known_keys, name).items()
    ]


@pytest.mark.parametrize(("table", "alias", "target"), _alias_tables())
def test_every_alias_points_at_a_known_key(table: str, alias: str, target: str) -> None:
    known = getattr(known_keys, table.replace("_ALIASES", "_KEYS"))
    head, _, rest = target.partition(".")
    assert alias not in known  # an alias for a known key would never be used
    assert head in known
    if rest:  # one level down: `delivery:` -> `callback:`
        assert head == "callback"
        assert rest in known_keys.CALLBACK_KEYS


@pytest.mark.parametrize("where", ["", "extension."])
@pytest.mark.parametrize("alias", sorted(known_keys.DELIVERY_ALIASES))
def test_following_a_delivery_alias_is_clean(where: str, alias: str) -> None:
    def nested(path: str, value: object) -> dict[str, object]:
        head, _, rest = path.partition(".")
        return {head: nested(rest, value) if rest else value}

    def unknown(data: dict[str, object]) -> list[str]:
        manifest = parse_manifest({"id": "a", "version": "1", **data}, environ={"S": "s"})
        return [p for p in manifest.problems if p.startswith("Unknown key")]

    target = f"{where}delivery.{known_keys.DELIVERY_ALIASES[alias]}"
    wrong = nested(f"{where}delivery.{alias}", "env.S")
    assert unknown(wrong) == [
        f"Unknown key `{where}delivery.{alias}` (did you mean '{target}'?); it was ignored."
    ]
    assert unknown(nested(target, "env.S")) == []


def test_unknown_keys_are_ignored_by_the_loader() -> None:
    manifest = parse_manifest({"id": "a", "version": "1", "setings": [{"key": "A"}]}, environ={})
    assert manifest.settings == ()


def test_manifest_is_read_only_and_repr_hides_the_secret() -> None:
    manifest = parse_manifest(
        {"id": "a", "version": "1", "delivery_secret": "env.S", "output_fields": {"x": {}}},
        environ={"S": "top-secret-value"},
    )
    assert manifest.delivery_secret == "top-secret-value"
    assert "top-secret-value" not in repr(manifest)
    with pytest.raises(TypeError):
        manifest.raw["id"] = "b"  # type: ignore[index]
    with pytest.raises(TypeError):
        manifest.output_fields["y"] = OutputFieldSpec("y")  # type: ignore[index]


# --- env references ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref", ["env:API_TOKEN", "env.API_TOKEN", "${API_TOKEN}", " env.API_TOKEN "]
)
def test_env_reference_syntaxes(ref: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_env_reference(ref, {"API_TOKEN": "t-1"}) == "t-1"
    assert resolve_env_reference(ref, {}) is None
    monkeypatch.setenv("API_TOKEN", "from-os")
    assert resolve_env_reference(ref) == "from-os"
    monkeypatch.delenv("API_TOKEN")
    assert resolve_env_reference(ref) is None


@pytest.mark.parametrize("ref", ["env:KIKET_WEBHOOK_SECRET", "${KIKET_WEBHOOK_SECRET}"])
def test_delivery_secret_reference_syntaxes(ref: str) -> None:
    data = {"id": "a", "version": "1", "delivery_secret": ref}
    assert parse_manifest(data, environ=SET).delivery_secret == "whsec-from-env"
    unset = parse_manifest(data, environ={})
    assert unset.delivery_secret is None
    assert unset.problems == (
        "delivery_secret refers to environment variable KIKET_WEBHOOK_SECRET, which is not set.",
    )


def test_embedded_references() -> None:
    env = {"HOST": "ext.example.com", "PORT": "8443"}
    assert resolve_env_reference("https://${HOST}:${PORT}/hooks", env) == (
        "https://ext.example.com:8443/hooks"
    )
    assert resolve_env_reference("https://${HOST}:${MISSING}/", env) is None
    assert resolve_env_reference("Bearer ${EMPTY}", {"EMPTY": ""}) == "Bearer "


@pytest.mark.parametrize(
    "value", ["plain", "environment", "env.1BAD", "env:", "$HOME", "${}", 42, None, ["env.X"]]
)
def test_non_references_pass_through(value: object) -> None:
    assert resolve_env_reference(value, {"X": "x", "HOME": "/root"}) == value


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("example.apiKey", "KIKET_SECRET_EXAMPLE_APIKEY"),
        ("API_KEY", "KIKET_SECRET_API_KEY"),
        ("slack-bot token", "KIKET_SECRET_SLACK_BOT_TOKEN"),
        ("a..b--c", "KIKET_SECRET_A_B_C"),
        ("a__b", "KIKET_SECRET_A_B"),
        ("x1.y2", "KIKET_SECRET_X1_Y2"),
        ("MAILJET_API_KEY", "KIKET_SECRET_MAILJET_API_KEY"),
    ],
)
def test_secret_env_name(key: str, expected: str) -> None:
    assert secret_env_name(key) == expected


# --- settings precedence ----------------------------------------------------------------------

LAYERED = {
    "id": "a",
    "version": "1",
    "settings": [
        {"key": "api.key", "secret": True, "default": "env.FALLBACK_KEY"},
        {"key": "REGION", "default": "eu"},
        {"key": "RETRIES", "default": "3"},
        {"key": "DEBUG", "default": "false"},
    ],
    "secrets": ["EXTRA"],
}


def test_settings_precedence_three_layers() -> None:
    manifest = parse_manifest(LAYERED, environ={})
    env = {
        "FALLBACK_KEY": "default-key",
        "KIKET_SECRET_EXTRA": "extra",
        "KIKET_SECRET_REGION": "ignored: not a secret key",
    }
    assert resolve_settings(manifest, environ=env) == {
        "api.key": "default-key",
        "REGION": "eu",
        "RETRIES": "3",
        "DEBUG": "false",
        "EXTRA": "extra",
    }
    env["KIKET_SECRET_API_KEY"] = "env-key"
    assert resolve_settings(manifest, environ=env)["api.key"] == "env-key"
    explicit = {"api.key": "explicit-key", "RETRIES": 5, "NEW": True}
    resolved = resolve_settings(manifest, explicit, environ=env)
    assert resolved["api.key"] == "explicit-key"
    assert (resolved["RETRIES"], resolved["NEW"], resolved["EXTRA"]) == (5, True, "extra")


def test_auto_env_secrets_off_and_blank_overrides() -> None:
    manifest = parse_manifest(LAYERED, environ={})
    env = {"KIKET_SECRET_API_KEY": "env-key", "KIKET_SECRET_EXTRA": "  "}
    off = resolve_settings(manifest, auto_env_secrets=False, environ=env)
    assert off["api.key"] is None  # env.FALLBACK_KEY is unset
    assert "EXTRA" not in off
    on = resolve_settings(manifest, environ=env)
    assert on["api.key"] == "env-key"
    assert "EXTRA" not in on  # blank counts as unset


def test_settings_without_manifest_and_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_settings(None) == {}
    explicit = {"A": 1}
    result = resolve_settings(None, explicit)
    assert result == {"A": 1}
    assert result is not explicit
    monkeypatch.setenv("KIKET_SECRET_EXTRA", "from-os")
    assert resolve_settings(parse_manifest(LAYERED, environ={}))["EXTRA"] == "from-os"


def test_embedded_default_text_is_left_alone() -> None:
    manifest = parse_manifest(
        {"id": "a", "version": "1", "settings": [{"key": "T", "default": "Cost: ${amount}"}]},
        environ={},
    )
    assert resolve_settings(manifest, environ={}) == {"T": "Cost: ${amount}"}


# --- webhook secret ---------------------------------------------------------------------------


def test_webhook_secret_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    with_ref = parse_manifest({"id": "a", "delivery_secret": "env.MANIFEST_SECRET"}, environ={})
    both = {"MANIFEST_SECRET": "from-manifest", "KIKET_WEBHOOK_SECRET": "from-env"}
    assert resolve_webhook_secret("explicit", with_ref, both) == "explicit"
    assert resolve_webhook_secret(None, with_ref, both) == "from-manifest"
    assert resolve_webhook_secret("  ", with_ref, both) == "from-manifest"
    assert resolve_webhook_secret("", with_ref, {**both, "MANIFEST_SECRET": ""}) == "from-env"
    assert resolve_webhook_secret(None, with_ref, {"KIKET_WEBHOOK_SECRET": "from-env"}) == (
        "from-env"
    )
    assert resolve_webhook_secret(None, None, {"KIKET_WEBHOOK_SECRET": " "}) is None
    assert resolve_webhook_secret(None, None, {}) is None
    monkeypatch.setenv("KIKET_WEBHOOK_SECRET", "os-env")
    assert resolve_webhook_secret(None, None) == "os-env"
    handmade = ExtensionManifest(path=None, id="a", version="1", delivery_secret="literal")
    assert resolve_webhook_secret(None, handmade, {}) == "literal"


def test_flat_fixture_bare_name_is_never_the_secret() -> None:
    manifest = load(FLAT, SET)
    assert resolve_webhook_secret(None, manifest, SET) == "whsec-from-env"
    assert resolve_webhook_secret(None, load(FLAT, {}), {}) is None


# --- documentation ----------------------------------------------------------------------------


MANIFEST_MODULES = [
    _manifest,
    *(
        importlib.import_module(f"kiket_sdk._manifest.{name}")
        for name in (
            "delivery_secret",
            "environment",
            "known_keys",
            "loading",
            "model",
            "parsing",
            "settings",
            "yaml_values",
        )
    ),
]


@pytest.mark.parametrize("module", MANIFEST_MODULES, ids=lambda m: m.__name__)
def test_module_docstring_example_runs(module: object) -> None:
    doc = getattr(module, "__doc__", None) or ""
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.DOTALL)
    assert blocks
    for block in blocks:
        exec(compile(block, f"<{getattr(module, '__name__', '?')} docstring>", "exec"), {})


def test_public_functions_have_docstrings() -> None:
    for module in MANIFEST_MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj):
                assert obj.__doc__, f"{module.__name__}.{name} has no docstring"
