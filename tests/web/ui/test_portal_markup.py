"""The description renderer: escape first, then a small Markdown subset."""

from __future__ import annotations

from portside.web.ui.markup import render_markdown


def test_html_in_a_description_is_escaped() -> None:
    assert str(render_markdown('<img src=x onerror="alert(1)">')) == (
        "<p>&lt;img src=x onerror=&#34;alert(1)&#34;&gt;</p>")


def test_http_links_become_links() -> None:
    assert str(render_markdown("[docs](https://example.org/a?b=1&c=2)")) == (
        '<p><a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener">docs</a></p>')


def test_javascript_links_stay_text() -> None:
    assert str(render_markdown("[x](javascript:alert(1))")) == "<p>[x](javascript:alert(1))</p>"


def test_a_link_cannot_break_out_of_its_attribute() -> None:
    html = str(render_markdown('[x](https://e.org/"onmouseover="alert(1))'))
    assert 'href="https://e.org/"' not in html
    assert "onmouseover=\"" not in html


def test_lists_headings_and_code() -> None:
    source = "## Usage\n- run `docker pull *x*`\n- **fast**\n\n```\n<b>kept</b>\n```"
    assert str(render_markdown(source)) == (
        "<h4>Usage</h4>\n<ul><li>run <code>docker pull *x*</code></li><li><strong>fast</strong></li></ul>\n"
        "<pre><code>&lt;b&gt;kept&lt;/b&gt;</code></pre>")
