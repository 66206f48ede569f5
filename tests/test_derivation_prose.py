"""Justifications as data (:mod:`ssl_proofs.derivation.prose`): printed in every format by the printers the
statements use, and every equality a justification states evaluated on the step's samples (a false one
refutes the step: sympy matrix calculus can fail silently, so no stated identity is taken on trust)."""
import json

import pytest
import sympy

from ssl_proofs.derivation import (D, Derivation, G, H, L, N, Step, Z, check_step, cond, eq, prose,
                                   standard_notation)
from ssl_proofs.errors import InvalidArgument
from ssl_proofs_cli.report import html as report_html
from ssl_proofs_cli.report import markdown as report_md
from ssl_proofs_cli.report.latex import _prose as report_tex_prose

ONE = sympy.OneMatrix(N, 1)
DIRICHLET_SPLIT = Step(sympy.Trace(Z.T * L * Z), sympy.Trace(Z.T * D * Z) - sympy.Trace(Z.T * G * Z),
                       prose("the graph Laplacian ", eq(L, D - G), " (with ", cond(L * ONE, sympy.ZeroMatrix(N, 1)),
                             "); a_b *not* markup"))


def test_parts_keep_their_kind():
    p = DIRICHLET_SPLIT.rule
    assert p.words() == "the graph Laplacian  (with ); a_b *not* markup"
    assert [str(x) for x in p.identities()] == ["L = D - G"], "the condition is printed, not checked"
    assert str(p) == "the graph Laplacian L = D - G (with L*1 = 0); a_b *not* markup"


def test_every_format_prints_the_statements_printer():
    p, tex = DIRICHLET_SPLIT.rule, "L = D - G"
    assert sympy.latex(L) + " = " + sympy.latex(D - G) == tex
    md = report_md.prose(p)
    assert f"${tex}$" in md and r"a\_b \*not\* markup" in md  # words escaped, maths as GitHub math
    page = report_html.mathml  # the report's MathML converter (latex2mathml)
    htm = report_html._prose(p)
    assert page(tex, display="inline") in htm and "a_b *not* markup" in htm
    ltx = report_tex_prose(p)
    assert rf"\fitmath{{{tex}}}" in ltx and r"a\_b *not* markup" in ltx
    d = Derivation(prose("a title with ", Z), (DIRICHLET_SPLIT,))
    assert f"${tex}$" in d.render("tex")
    assert "### a title with $Z$" in d.render("md") and f"**the graph Laplacian ${tex}$" in d.render("md")
    assert "by the graph Laplacian L = D - G (with L*1 = 0)" in d.render("text")
    item = json.loads(d.render("json"))[0]
    assert item["rule"] == str(p) and {"latex": tex, "text": "L = D - G"} in item["rule_parts"]


def test_true_identities_in_the_justification_pass():
    step = check_step(DIRICHLET_SPLIT, numeric_m=5)
    assert step.evidence.holds and step.evidence.level in ("symbolic", "exact")


def test_a_false_identity_refutes_a_true_step():
    # the step holds; its justification claims H L = D (false: H L = L), which a reader would take on trust
    wrong = Step(DIRICHLET_SPLIT.lhs, DIRICHLET_SPLIT.rhs, prose("because ", eq(H * L, D)))
    ev = check_step(wrong, numeric_m=5).evidence
    assert ev.level == "refuted" and "justification identity refuted" in ev.detail and "H*L = D" in ev.counterexample
    # the same relation as a condition is printed, never evaluated
    assert check_step(Step(wrong.lhs, wrong.rhs, prose("because ", cond(H * L, D))), numeric_m=5).evidence.holds


def test_a_wrong_identity_in_a_custom_numeric_step_refutes_it():
    step = Step(Z, Z, prose("by ", eq(sympy.Trace(Z.T * G * Z), sympy.Trace(Z.T * D * Z))), check="numeric",
                numeric=lambda inst, rng, tol: None)
    assert check_step(step, numeric_m=5).evidence.level == "refuted"


def test_an_identity_without_values_leaves_the_step_unchecked():
    x = sympy.MatrixSymbol("X", N, N)
    ev = check_step(Step(DIRICHLET_SPLIT.lhs, DIRICHLET_SPLIT.rhs, prose(eq(x, L))), numeric_m=3).evidence
    assert ev.level == "unchecked" and "X" in ev.detail


def test_identity_shapes_must_agree():
    ev = check_step(Step(DIRICHLET_SPLIT.lhs, DIRICHLET_SPLIT.rhs, prose(eq(L * ONE, sympy.Integer(0)))),
                    numeric_m=3).evidence
    assert ev.level == "refuted" and "ill-formed" in ev.detail


@pytest.mark.parametrize("bad", [3, 1.5, None, ["a"]])
def test_parts_are_text_expressions_or_identities(bad):
    with pytest.raises(InvalidArgument):
        prose("ok ", bad)


def test_empty_rule_refused():
    with pytest.raises(InvalidArgument):
        Step(Z, Z, prose())
    assert standard_notation().roles  # the notation the checks sample from
