"""One worked example per strategy family (docs/examples/), each run in a
real engine: a campaign collected with ``questions``, sorted with
``by_prompt``, moderated by the jury wrapped by ``profanity_screen``,
evaluated with ``dot_vote``, ranked by ``top_consensus`` and exported as
``markdown``; and the complete template example, checked."""

from __future__ import annotations

import tomllib

from doc_examples import EXAMPLES, example

from essaim import CampaignTemplate, Command, PluginHost
from essaim.model.template import TEMPLATE_KEYS, TRANSLATION_KEYS
from essaim.testing import joined, make_template, open_test_engine, run_campaign_to

questions = example("strategies/questions.py")
by_prompt = example("strategies/by_prompt.py")
profanity = example("strategies/profanity_screen.py")
top_consensus = example("strategies/top_consensus.py")
markdown = example("strategies/markdown_export.py")
dot_vote = example("essaim-example-plugin/src/essaim_dot_vote/__init__.py")

TEMPLATE = make_template(
    phases=[
        {"type": "collect", "strategy": "questions", "settings": {"questions": [
            {"id": "slow", "text": "What slows you down?"},
            {"id": "field", "text": "What does the office not see?", "role": "Field"}]}},
        {"type": "sort", "strategy": "by_prompt", "settings": {"hand_size": 4}},
        {"type": "evaluate", "strategy": "dot_vote", "settings": {"dots": 2}},
        "results",
    ],
    results={"strategy": "top_consensus", "settings": {"min_consensus": 0.0}},
)


async def test_a_campaign_with_one_worked_example_per_family() -> None:
    plugins = [questions, by_prompt, profanity.ProfanityScreen(["frobnicate"]), dot_vote, top_consensus, markdown]
    async with open_test_engine(plugins=plugins) as engine:
        cid = (await engine.create_campaign(TEMPLATE)).campaign_id
        field_people = await joined(engine, cid, 3, {"role": "Field"})
        office_people = await joined(engine, cid, 3, {"role": "Office"})
        people = field_people + office_people
        await run_campaign_to(engine, cid, 0)

        # Collection: prompts per role, checked cards, suggestions from the cached word index.
        assert [p.id for p in await engine.prompts(cid, field_people[0].pid or "")] == ["slow", "field"]
        assert [p.id for p in await engine.prompts(cid, office_people[0].pid or "")] == ["slow"]
        texts = ["Too many approval steps", "Approval steps take weeks", "Meetings eat the afternoon",
                 "Nobody reads the field reports", "Let us frobnicate the reports"]
        for person, text in zip(people, texts):
            await engine.execute(cid, person, Command("write_card", {"text": text, "prompt": "slow"}))
        assert [s.cid for s in await engine.suggest(cid, "approval steps")][:2] == ["c1", "c2"]
        assert ("essaim_doc_example_questions", "words") in engine.state(cid).caches
        # Moderation: the wrapper around the jury's screen hid the card with its word.
        assert engine.state(cid).cards["c5"].hidden

        # Structuring: hands from one question; sorters merge the two approval cards.
        await run_campaign_to(engine, cid, 1)
        for sorter in people[:3]:
            hand = (await engine.execute(cid, sorter, Command("deal"))).result["hand"]
            items = hand["items"]
            same = [c for c in items if c in ("c1", "c2")]
            rest = [[c] for c in items if c not in same]
            await engine.execute(cid, sorter, Command("place", {
                "hid": hand["hid"], "themes": [[same, *rest] if same else rest]}))
        structure = await engine.structure(cid)
        # p3 wrote c3, so its hand holds c1, c2 and c4 (never one's own card), and it merged c1 and c2.
        [merged] = [idea.cards for idea in structure.ideas() if "c1" in idea.cards]
        assert set(merged) == {"c1", "c2"}

        # Evaluation (the example plugin's dot_vote) and results (top_consensus).
        await run_campaign_to(engine, cid, 2)
        first = sorted(engine.state(cid).items)[0]
        for person in people:
            await engine.execute(cid, person, Command("evaluate", {"kind": "dot", "data": {"iid": first}}))
        await run_campaign_to(engine, cid, 3)
        results = await engine.results(cid)
        assert results.sheets[0].iid == first and results.sheets[0].rank == 1

        # Export: the markdown format.
        [page] = await engine.export(cid, "markdown")
        assert page.name == "results.md" and page.content.startswith(f"# {results.title}".encode())
        assert f"1. **{results.sheets[0].title}**".encode() in page.content


def test_the_complete_template_example_uses_every_key_and_passes_the_checks() -> None:
    path = EXAMPLES / "complete-template.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for section, keys in TEMPLATE_KEYS.items():
        tables = data[section] if isinstance(data[section], list) else [data[section]]
        used = set().union(*(t.keys() for t in tables))
        assert used >= set(keys), f"[{section}] of the example lacks {sorted(set(keys) - used)}"
    template = CampaignTemplate.load(path)
    assert set(template.translations["fr"]) == set(TRANSLATION_KEYS), "every translatable text"
    host = PluginHost.load(entry_points=False)
    template.check(host.registry, source=str(path))
    # Every setting of each strategy it chooses is there, with a non-default example where it helps.
    for phase in template.check(host.registry).phases:
        family = host.registry.phase_types[phase.type].family
        if family is not None:
            declared = host.registry.strategies[(family, phase.strategy or "")].settings
            assert declared is not None and set(phase.settings) == set(dict(declared)), phase.type
    for section in ("moderation", "results"):
        choice = getattr(template, section)
        declared = host.registry.strategies[(section, choice.name)].settings
        assert declared is not None and set(choice.settings) == set(dict(declared)), section
