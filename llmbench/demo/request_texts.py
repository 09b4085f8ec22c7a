"""What one production request of a feature says: its system and user messages, the answer it
gets and its task type, drawn from the catalog's word lists with the traffic's seeded stream."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from datetime import timedelta

from llmbench.demo import texts
from llmbench.demo.catalog import (
    AGENTS,
    CUSTOMERS,
    FOLLOW_UPS,
    KNOWLEDGE,
    LANGUAGES,
    QUESTION_OPENERS,
    TOPICS,
)
from llmbench.demo.records import DemoClock
from llmbench.demo.traffic_mix import Feature


def request_texts(
    rng: random.Random,
    clock: DemoClock,
    feature: Feature,
    sections: Mapping[str, str],
    model: str,
) -> tuple[str, str, str, str]:
    """(system, user, response, task type) for one request of `feature`."""
    system = texts.system_text(sections)
    if feature.name == "support-chat":
        ticket = texts.ticket(rng)
        user = texts.render(
            sections["task"],
            {"customer_name": ticket.name, "reference": ticket.ref, "ticket": ticket.text},
        )
        reply = f"{ticket.reply} — {rng.choice(AGENTS)}, Northwind Support"
        return system, user, reply, ticket.intent
    if feature.name == "summarize":
        ticket = texts.ticket(rng)
        follow_up = rng.choice(FOLLOW_UPS)
        thread = (
            f"Customer ({rng.choice(CUSTOMERS)}): {ticket.text}\n"
            f"Agent: {ticket.reply}\nCustomer: {follow_up}"
        )
        sentiment = (
            "positive"
            if "thanks" in follow_up
            else ("negative" if "broken" in follow_up or "urgent" in follow_up else "neutral")
        )
        next_step = "close the ticket" if sentiment == "positive" else "follow up within 24 h"
        summary = (
            f"- Issue: {ticket.intent} request ({ticket.ref})\n"
            f"- Owner: {rng.choice(AGENTS)}\n- Next step: {next_step}\n"
            f"- Sentiment: {sentiment}"
        )
        return system, texts.render(sections["task"], {"thread": thread}), summary, "summary"
    if feature.name == "extract":
        issued = clock.now - timedelta(days=rng.randint(0, clock.days))
        invoice = texts.invoice(rng, issued, credit_note=rng.random() < 0.08)
        response = json.dumps(invoice.golden(), ensure_ascii=False)
        if model == "gpt-4o-mini" and rng.random() < 0.15:
            response = "```json\n" + response + "\n```"
        user = texts.render(sections["task"], {"document": invoice.document})
        return system, user, response, "credit-note" if invoice.total < 0 else "invoice"
    if feature.name == "classify":
        ticket = texts.ticket(rng)
        response = json.dumps(
            {"intent": ticket.intent, "confidence": round(rng.uniform(0.55, 0.99), 2)}
        )
        user = texts.render(sections["task"], {"ticket": ticket.text})
        return system, user, response, "classification"
    if feature.name == "search-answer":
        question, passage, answer = rng.choice(KNOWLEDGE)
        other = rng.choice(KNOWLEDGE)[1]
        opener = rng.choice(QUESTION_OPENERS)
        asked = f"{opener}{question[0].lower()}{question[1:]}" if opener else question
        user = f"Context:\n[1] {passage}\n[2] {other}\n\nQuestion: {asked}"
        system = (
            "Answer the question using only the numbered context. Cite sources as [n]. "
            "If the context does not answer it, say so."
        )
        return system, user, answer, "qa"
    if rng.random() < 0.5:
        user = f"Say hello in {rng.choice(LANGUAGES)}."
    else:
        user = f"Write a haiku about {rng.choice(TOPICS)}."
    response = user if model == "llmbench/echo" else f"(simulated) A short reply to: {user}"
    return "You are a test assistant.", user, response, "experiment"
