"""The runner of the schema history: every step registered, in release order, under the name it
was released with (the name a database records once the step has run there).

A released migration is never edited: add an m00N_ function to a step module and append it to
STEPS, after the last one.
"""

from __future__ import annotations

from sqlite_utils.migrations import Migrations

from llmbench.store.schema.additions import (
    m002_prompt_versions,
    m003_cache_kinds_and_routes,
    m005_case_checks,
    m006_guard_policies,
    m007_informational_checks,
)
from llmbench.store.schema.cache_policies import m021_cache_policies
from llmbench.store.schema.case_params import m018_case_params
from llmbench.store.schema.chain_seals import m008_chain_forms_and_purge_records
from llmbench.store.schema.conversations import m012_conversations
from llmbench.store.schema.drafts import m010_drafts
from llmbench.store.schema.initial import m001_initial
from llmbench.store.schema.media_parts import m015_media_parts
from llmbench.store.schema.optimizations import m019_optimizations
from llmbench.store.schema.production_quality import m016_production_quality
from llmbench.store.schema.prompt_caching import m017_cacheable_sections
from llmbench.store.schema.reasoning_cache_tokens import m014_reasoning_and_cache_write_tokens
from llmbench.store.schema.rollups import m004_daily_rollups
from llmbench.store.schema.search_index import m009_search_index_kept_by_the_writer
from llmbench.store.schema.tool_call_search import m013_tool_calls_in_results_and_search
from llmbench.store.schema.tool_calls import m011_tool_calls
from llmbench.store.schema.version_figures import m020_version_figures

STEPS = (
    m001_initial,
    m002_prompt_versions,
    m003_cache_kinds_and_routes,
    m004_daily_rollups,
    m005_case_checks,
    m006_guard_policies,
    m007_informational_checks,
    m008_chain_forms_and_purge_records,
    m009_search_index_kept_by_the_writer,
    m010_drafts,
    m011_tool_calls,
    m012_conversations,
    m013_tool_calls_in_results_and_search,
    m014_reasoning_and_cache_write_tokens,
    m015_media_parts,
    m016_production_quality,
    m017_cacheable_sections,
    m018_case_params,
    m019_optimizations,
    m020_version_figures,
    m021_cache_policies,
)

migrations = Migrations("llmbench")
for _step in STEPS:
    migrations()(_step)
