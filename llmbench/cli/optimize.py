"""`llmbench optimize PROMPT`: the cost optimizer's loop for CI. Every candidate of the prompt's
production version is tested against it on the prompt's dataset; `--apply` ships the one that
saves most while holding quality. Exit 1 when no candidate holds quality."""

from __future__ import annotations

import click

from llmbench.cli.common import cli_settings, db_option, fail, resolve_db


def _money(value: float) -> str:
    return f"${value:,.4f}" if abs(value) < 100 else f"${value:,.0f}"


@click.command("optimize")
@click.argument("prompt")
@click.option("--dataset", "dataset", default=None, help="The dataset to test on.")
@click.option(
    "--from-production",
    "production",
    is_flag=True,
    help="Test on a sample of the prompt's recent production inputs (also used when it has no"
    " dataset).",
)
@click.option("--apply", "apply", is_flag=True, help="Ship the best candidate that holds.")
@db_option
@click.pass_context
def optimize(
    ctx: click.Context,
    prompt: str,
    dataset: str | None,
    production: bool,
    apply: bool,
    db: str | None,
) -> None:
    """Find, test and (with --apply) ship cheaper versions of PROMPT."""
    from llmbench.services.database import open_store
    from llmbench.services.optimize.candidates import OptimizeError, find_candidates
    from llmbench.services.optimize.rewrite import with_rewrite
    from llmbench.services.optimize.shipping import ship
    from llmbench.services.optimize.testing import test_candidate

    settings = cli_settings()
    with open_store(resolve_db(ctx, db), create=False) as store:
        try:
            # The exact cache replayed with the gateway's lifetime, as shipping it would keep.
            found = find_candidates(store, prompt, cache_ttl_s=settings.gateway.cache_ttl_s)
        except OptimizeError as error:
            fail(str(error))
        found = with_rewrite(store, settings, found)  # the configured model's rewrite, if usable
        click.echo(
            f"{found.prompt.name} v{found.version.version} on {found.usage.model}: "
            f"{found.usage.calls} calls, {_money(found.usage.cost)} in 30 days"
        )
        held = []
        for candidate in found.candidates:
            if not candidate.testable:
                click.echo(
                    f"  {candidate.kind:<13} {candidate.title}: projected "
                    f"{_money(candidate.projected_monthly)}/month (replayed; no run needed)"
                )
                continue
            try:
                tested = test_candidate(
                    store, settings, found, candidate, dataset, production=production
                )
            except OptimizeError as error:
                fail(str(error))
            report = tested.report
            delta = "n/a" if report.quality_delta is None else f"{report.quality_delta:+.1f} pts"
            verdict = "holds" if tested.holds else "does not hold"
            click.echo(
                f"  {candidate.kind:<13} {candidate.title}: run {tested.run_id}, quality {delta}"
                f", {len(report.regressions)} regressions, projected "
                f"{_money(tested.projected_monthly)}/month: {verdict}"
            )
            if tested.holds:
                held.append(tested)
        if not held:
            fail("no candidate held quality", 1)
        best = max(held, key=lambda item: item.projected_monthly)
        share = best.projected_monthly / found.usage.cost if found.usage.cost else 0.0
        click.echo(
            f"best: {best.candidate.title}, {_money(best.projected_monthly)}/month ({share:.0%})"
        )
        if apply:
            shipped = ship(store, found, best)
            how = (
                f"route {shipped.route}" if shipped.route else f"label move {shipped.label_move_id}"
            )
            click.echo(f"shipped as {how} (optimization {shipped.optimization_id})")
