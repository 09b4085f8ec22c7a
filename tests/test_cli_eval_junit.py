"""`llmbench eval -o out.xml` writes JUnit XML that validates against the format CI servers
read (tests/data/junit/junit.xsd), for passing and failing runs alike."""

from __future__ import annotations

from pathlib import Path

import pytest
import xmlschema

from tests.test_cli_eval import GOOD, WORSE, _eval, _suite

SCHEMA = xmlschema.XMLSchema(Path(__file__).parent / "data" / "junit" / "junit.xsd")


@pytest.mark.parametrize(("suite", "exit_code"), [(GOOD, 0), (WORSE, 1)])
def test_the_junit_file_validates(tmp_path: Path, suite: str, exit_code: int) -> None:
    out = tmp_path / "out.xml"
    result = _eval(tmp_path, _suite(tmp_path, suite), "-o", str(out))
    assert result.exit_code == exit_code, result.output
    SCHEMA.validate(out)  # raises with the offending element when it does not


@pytest.mark.parametrize(
    "document",
    [
        '<testsuites><testsuite tests="1"><testcase name="a"/></testsuite></testsuites>',
        '<testsuites><testsuite name="s" tests="-1"/></testsuites>',
        '<testsuites><testsuite name="s" tests="1"><testcase/></testsuite></testsuites>',
        '<testsuites><testsuite name="s" tests="1"><case name="a"/></testsuite></testsuites>',
        '<testsuites><testsuite name="s" tests="1" time="soon"/></testsuites>',
    ],
)
def test_the_schema_refuses_what_ci_servers_would(tmp_path: Path, document: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(document, encoding="utf-8")
    assert not SCHEMA.is_valid(path)
