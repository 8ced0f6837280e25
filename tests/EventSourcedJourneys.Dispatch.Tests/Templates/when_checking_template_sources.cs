using EventSourcedJourneys.Dispatch.Templates;

namespace EventSourcedJourneys.Dispatch.Tests.Templates;

public sealed class when_checking_template_sources
{
    private readonly LiquidTemplates liquid = new();

    [Fact]
    public void a_parse_error_names_the_field_and_fluids_line_and_column()
    {
        var problems = liquid.Check([("subject", "Hello"), ("body", "Hi {{ traits.first_name }},\nyour cart {{ properties.total | }}")]);

        var problem = Assert.Single(problems);
        Assert.Equal("body", problem.Field);
        Assert.Equal(2, problem.Line);
        Assert.Equal(32, problem.Column); // where Fluid looked for the filter's name
        Assert.Equal("An identifier was expected after the '|' sign", problem.Message);
    }

    [Fact]
    public void an_unclosed_block_is_reported()
    {
        var problem = Assert.Single(liquid.Check([("html", "{% for item in properties.items %}{{ item.name }}")]));

        Assert.Equal("html", problem.Field);
        Assert.Contains("endfor", problem.Message);
        Assert.Equal(1, problem.Line);
    }

    [Fact]
    public void an_unknown_filter_is_refused_even_in_a_branch_that_would_not_run()
    {
        var problem = Assert.Single(liquid.Check([("body", "{% if false %}{{ traits.name | shout }}{% endif %}")]));

        Assert.Equal("Unknown filter 'shout'", problem.Message);
    }

    [Fact]
    public void every_field_is_checked()
    {
        var problems = liquid.Check([("title", "{{ a"), ("data.url", "{% if %}"), ("body", "fine")]);

        Assert.Equal(["title", "data.url"], problems.Select(p => p.Field));
    }
}
