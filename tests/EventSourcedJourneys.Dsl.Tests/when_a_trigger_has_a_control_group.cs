using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Formatting;

namespace EventSourcedJourneys.Dsl.Tests;

public class when_a_trigger_has_a_control_group
{
    const string Trigger = "trigger t\n    on event \"a\"\n    send email \"x\"\n    ";

    static IReadOnlyList<string> Errors(string text)
    {
        var result = RuleCompiler.Compile(text);
        Assert.Null(result.Document);
        return result.Diagnostics.Select(d => d.ToString()).ToArray();
    }

    static CompiledTrigger Compiled(string text)
    {
        var result = RuleCompiler.Compile(text);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Document!.Triggers[0];
    }

    [Theory]
    [InlineData("control group 10%", 10, 1000)]
    [InlineData("control group 12.5%", 12.5, 1250)]
    [InlineData("control group 0.01%", 0.01, 1)]
    [InlineData("control group 99.99%", 99.99, 9999)]
    [InlineData("control group 50.00%", 50, 5000)]
    public void the_percentage_becomes_a_number_of_the_ten_thousand_buckets(string line, double percent, int buckets)
    {
        var control = Compiled(Trigger + line).ControlGroup;

        Assert.NotNull(control);
        Assert.Equal((decimal)percent, control.Percent);
        Assert.Equal(buckets, control.Buckets);
        Assert.True(control.Holds(buckets - 1));
        Assert.False(control.Holds(buckets));
    }

    [Fact]
    public void a_trigger_without_the_line_has_no_control_group() =>
        Assert.Null(Compiled("trigger t on event \"a\" send email \"x\"").ControlGroup);

    [Theory]
    [InlineData("control group 0%", "4:19: a control group of 0% is not a share of the contacts; give a percentage above 0 and below 100, such as 10%")]
    [InlineData("control group 100%", "4:19: a control group of 100% is not a share of the contacts; give a percentage above 0 and below 100, such as 10%")]
    [InlineData("control group 150%", "4:19: a control group of 150% is not a share of the contacts; give a percentage above 0 and below 100, such as 10%")]
    [InlineData("control group -5%", "4:19: a control group of -5% is not a share of the contacts; give a percentage above 0 and below 100, such as 10%")]
    [InlineData("control group 12.345%", "4:19: a control group is set in steps of 0.01%; write at most two decimals, not 12.345%")]
    public void a_percentage_out_of_range_or_too_fine_is_reported_where_it_is_written(string line, string error) =>
        Assert.Equal([error], Errors(Trigger + line));

    [Theory]
    [InlineData("control group 10", "4:19: unexpected number `10`, expected a percentage such as 10%")]
    [InlineData("control group ten%", "4:22: unexpected character `%`")]
    [InlineData("control 10%", "4:13: unexpected `10%`, expected `group`")]
    public void a_malformed_line_is_a_syntax_error_with_its_position(string line, string error) =>
        Assert.Equal(error, Errors(Trigger + line)[0]);

    [Fact]
    public void a_second_control_group_line_is_reported() =>
        Assert.Equal(["5:5: trigger `t` already has a `control group` line on line 4"],
            Errors(Trigger + "control group 10%\n    control group 20%"));

    [Fact]
    public void the_formatter_prints_the_line_as_written_and_it_parses_back()
    {
        Assert.True(RuleFormatter.TryFormat("trigger t on event \"a\" send email \"x\" control group 12.5%", out var formatted, out _));

        Assert.Equal("trigger t\n    on event \"a\"\n    send email \"x\"\n    control group 12.5%\n", formatted);
        Assert.Equal(12.5m, Compiled(formatted).ControlGroup!.Percent);
    }
}
