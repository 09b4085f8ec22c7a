"""`llmbench collect`: receive OpenTelemetry spans over OTLP/HTTP into the audit log."""

from __future__ import annotations

import asyncio

import click

from llmbench.cli.common import BadInput, db_option, resolve_db


@click.command("collect")
@click.option(
    "--port", default=4318, show_default=True, type=click.IntRange(0, 65535),
    help="The port to listen on (OTLP/HTTP's is 4318; 0 picks a free one).",
)  # fmt: skip
@click.option(
    "--host", default="127.0.0.1", show_default=True,
    help="The address to listen on (the loopback only, unless you mean otherwise).",
)  # fmt: skip
@db_option
@click.pass_context
def collect(ctx: click.Context, port: int, host: str, db: str | None) -> None:
    """Receive traces over OTLP/HTTP (POST /v1/traces, protobuf or JSON, gzip or not) and
    record their GenAI model-call spans as calls: model, tokens, cost, status, latency,
    conversation and trace, prompt, answer and tool calls.

    Point an app instrumented by OpenLLMetry, OpenInference or litellm's OTel callback (or
    your OpenTelemetry Collector's otlphttp exporter) at http://HOST:PORT. Other spans are
    skipped and counted. One line per batch; Ctrl+C stops.
    """
    from llmbench.services.database import open_for_command
    from llmbench.services.imports.otlp_collector import BatchReport, OtlpCollector, serve

    def report(batch: BatchReport) -> None:
        click.echo(batch.line())

    def started(bound: int) -> None:
        click.echo(f"collecting OTLP/HTTP traces at http://{host}:{bound}/v1/traces (Ctrl+C stops)")

    with open_for_command(resolve_db(ctx, db)) as store:
        # A file whose chain key is not here is refused now (a StoreError, one line).
        collector = OtlpCollector(store, report)
        try:
            asyncio.run(serve(collector, host, port, started))  # until Ctrl+C or SIGTERM
            click.echo("stopped")
        except KeyboardInterrupt:  # before the loop's own handlers were in place
            click.echo("stopped")
        except OSError as error:  # the port is taken, or the address is not this machine's
            raise BadInput(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
        finally:
            collector.close()
