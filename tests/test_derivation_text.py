"""What a derivation says besides its statements (justifications, titles, conditions, notes, stop reasons) is
mathematics printed from objects, not ASCII written by hand (issue 19: ``alpha||HZZ^TH/N - ...||_F^2`` next to
MathML). These tests read only the public derivations, so they run (and fail) on the code before the change."""
import html
import re

import pytest

import ssl_proofs
from ssl_proofs import duality
from ssl_proofs.derivations import linear
from ssl_proofs.errors import SSLProofsError
from ssl_proofs_cli import main

#: ASCII spellings of mathematics: transposes, sums, norms, traces, Frobenius, sub/superscripts, square roots,
#: ASCII relations and arrows, index suffixes such as d_i / G_ij / z_ik
ASCII_MATHS = re.compile(r"\^T\b|\^\{|_\{|sum_|\|\||\bTr\(|\btr\(|_F\b|sqrt\(|<=|>=|->|<=>|"
                         r"\b[A-Za-z]_(?:[ijkl]{1,2}|K|F|G)\b|\b1-perp\b")


def _registered():
    """Every derivation a user can print: each method's variants, the linear regime, the duality theorem."""
    out = []
    for name in ssl_proofs.list_methods():
        method = ssl_proofs.get_method(name)
        for v in method.variants:
            try:
                out.append((f"{name}/{v}", method.derivation(v)))
            except (SSLProofsError, NotImplementedError):
                continue
    vicreg = ssl_proofs.get_method("vicreg")
    out += [(f"linear/{v}", linear.derivation(vicreg, v)) for v in linear.VARIANTS]
    out.append(("duality", duality.derivation()))
    return out


def _words(text):
    """The words of a text: a plain string is all words; a Prose's expressions are data, not words."""
    return text.words() if hasattr(text, "words") else str(text)


def _texts(d):
    yield "title", d.title
    yield "stop", d.stop
    for t, s in enumerate(d.steps, 1):
        yield f"step {t} rule", s.rule
        yield f"step {t} note", s.note
        for a in s.assumptions:
            yield f"step {t} assumption", a


def test_every_derivation_is_registered_here():
    names = {key.split("/")[0] for key, _ in _registered()}
    assert {"vicreg", "barlowtwins", "simclr", "spectral_contrastive", "simsiam", "wmse", "linear",
            "duality"} <= names


@pytest.mark.parametrize("key,derivation", _registered(), ids=lambda x: x if isinstance(x, str) else "")
def test_no_ascii_mathematics_in_the_words(key, derivation):
    bad = [(where, _words(text)) for where, text in _texts(derivation) if ASCII_MATHS.search(_words(text))]
    assert not bad, f"{key}: ASCII mathematics in {bad}"


def test_the_pattern_catches_what_the_issue_quoted():
    for text in ("alpha||HZZ^TH/N - A||_F^2", "sum_i d_i z_i^T z_i = Tr(Z^T D Z)", "L 1 = 0 on 1-perp",
                 "K <= #components", "Z -> F", "sqrt(N) U_K", "G_ij"):
        assert ASCII_MATHS.search(text), text
    assert not ASCII_MATHS.search("expand the square; the graph Laplacian (Dirichlet energy), Eckart–Young")


def _rule_paragraphs(page):
    return re.findall(r'<p class="rule">(.*?)</p>', page, flags=re.S)


@pytest.mark.parametrize("method", ["vicreg", "barlowtwins", "spectral_contrastive"])
def test_derive_html_prints_justifications_as_mathml(method, capsys):
    assert main(["derive", method, "--format", "html", "--no-check"]) == 0
    page = capsys.readouterr().out
    rules = _rule_paragraphs(page)
    assert rules, "one rule paragraph per step"
    d = ssl_proofs.get_method(method).derivation()
    assert len(rules) == len(d.steps)
    with_maths = 0
    for rule in rules:
        with_maths += "<math" in rule
        words = html.unescape(re.sub(r"<math.*?</math>", " ", rule, flags=re.S))
        assert not ASCII_MATHS.search(re.sub(r"<[^>]+>", "", words)), words
    assert with_maths >= len(rules) // 2, "most justifications name an object: printed as MathML"
    title = re.search(r"<h1>(.*?)</h1>", page, flags=re.S).group(1)
    assert "Derivation" in title and not ASCII_MATHS.search(re.sub(r"<math.*?</math>", "", title, flags=re.S))
