"""The PDFs of a school, a county and the voivodeship report look as they did, from each PDF engine:
same page count, same text (what changes on every build masked) and page images within a small pixel
difference of the references in fixtures/pdf/<engine>/ (see tests/pdf_references.py; `make
pdf-references` regenerates them when a report changes on purpose)."""
from __future__ import annotations

import pytest

from pdf_references import ENGINES, MEAN_TOLERANCE, SHARE_TOLERANCE, difference, page_images, reference, text


@pytest.fixture(scope="module", params=ENGINES)
def pdfs(request, reference_pdfs):
    return request.param, reference_pdfs(request.param)


@pytest.mark.parametrize("name", ["school", "county", "voivodeship"])
def test_pdf_looks_as_it_did(pdfs, name):
    engine, pdfs = pdfs
    ref_pages, ref_text = reference(name, engine)
    pages = page_images(pdfs[name])
    assert len(pages) == len(ref_pages), f"{engine} {name}: {len(pages)} pages, the reference has {len(ref_pages)}"
    assert text(pdfs[name]) == ref_text
    for i, (page, ref) in enumerate(zip(pages, ref_pages), start=1):
        mean, share = difference(page, ref)
        assert mean <= MEAN_TOLERANCE and share <= SHARE_TOLERANCE, \
            f"{engine} {name} page {i}: mean difference {mean:.2f}, {share:.2%} of pixels changed"
