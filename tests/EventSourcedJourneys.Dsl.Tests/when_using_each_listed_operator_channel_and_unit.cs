using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;
using static EventSourcedJourneys.Dsl.Tests.Contacts;

namespace EventSourcedJourneys.Dsl.Tests;

/// <summary>Issue 4 lists the comparisons, channels and duration units the language must have; each is used here once
/// with the meaning docs/dsl.md gives it.</summary>
public class when_using_each_listed_operator_channel_and_unit
{
    static readonly ContactSnapshot Ann = Contact().WithTraits(
        ("email", Value.Of("ann@acme.com")), ("city", Value.Of("San Francisco")), ("age", Value.Of(38)), ("tags", Value.Array(Value.Of("vip"), Value.Of(7))));

    static bool Holds(string condition, ContactSnapshot contact)
    {
        var result = RuleCompiler.Compile($"segment s = {condition}");
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Document!.FindSegment("s")!.Contains(contact, Now);
    }

    [Theory]
    [InlineData("traits.age = 38", true)]
    [InlineData("traits.age != 38", false)]
    [InlineData("traits.age > 37", true)]
    [InlineData("traits.age >= 38", true)]
    [InlineData("traits.age < 38", false)]
    [InlineData("traits.age <= 38", true)]
    [InlineData("traits.age between 38 and 40", true)]
    [InlineData("traits.city in [\"Paris\", \"San Francisco\"]", true)]
    [InlineData("traits.email contains \"@acme.com\"", true)]
    [InlineData("traits.email contains \"@ACME.com\"", false)]
    [InlineData("traits.tags contains \"vip\"", true)]
    [InlineData("traits.city starts with \"San\"", true)]
    [InlineData("traits.city starts with \"Francisco\"", false)]
    [InlineData("traits.email exists", true)]
    [InlineData("traits.email not exists", false)]
    [InlineData("traits.age > 40 or (traits.city starts with \"San\" and not traits.age < 30)", true)]
    public void each_comparison_means_what_the_reference_says(string condition, bool holds) =>
        Assert.Equal(holds, Holds(condition, Ann));

    [Theory]
    [InlineData("traits.phone = \"x\"")]
    [InlineData("traits.phone != \"x\"")]
    [InlineData("traits.phone > 1")]
    [InlineData("traits.phone >= 1")]
    [InlineData("traits.phone < 1")]
    [InlineData("traits.phone <= 1")]
    [InlineData("traits.phone between 1 and 2")]
    [InlineData("traits.phone in [\"x\", 1]")]
    [InlineData("traits.phone contains \"x\"")]
    [InlineData("traits.phone starts with \"x\"")]
    [InlineData("traits.phone exists")]
    public void every_comparison_with_a_missing_path_is_false(string condition) => Assert.False(Holds(condition, Ann));

    [Fact]
    public void not_exists_is_how_a_missing_path_is_found() => Assert.True(Holds("traits.phone not exists", Ann));

    [Theory]
    [InlineData("email", Channel.Email)]
    [InlineData("sms", Channel.Sms)]
    [InlineData("push", Channel.Push)]
    [InlineData("webpush", Channel.WebPush)]
    [InlineData("inapp", Channel.InApp)]
    [InlineData("whatsapp", Channel.WhatsApp)]
    [InlineData("webhook", Channel.Webhook)]
    public void each_channel_is_sent_on_as_named(string channel, Channel expected)
    {
        var result = RuleCompiler.Compile($"trigger t on event \"a\" send {channel} \"x\"");

        Assert.Equal(new MessageTemplate(expected, "x"), Assert.Single(result.Document!.Triggers).Message);
    }

    [Theory]
    [InlineData("45s", 45)]
    [InlineData("30m", 30 * 60)]
    [InlineData("2h", 2 * 3_600)]
    [InlineData("7d", 7 * 86_400)]
    [InlineData("2w", 14 * 86_400)]
    public void each_duration_unit_is_elapsed_time(string duration, long seconds) =>
        Assert.Equal(Duration.FromSeconds(seconds), RuleCompiler.Compile($"trigger t on event \"a\" wait {duration} send sms \"x\"").Document!.Triggers[0].Wait);

    [Fact]
    public void since_entry_counts_from_the_moment_the_contact_entered_the_trigger()
    {
        var audience = RuleCompiler.Compile("""
            trigger t on event "trial_started" wait 3d
                audience count(event "app_opened" since entry) >= 2
                send push "x"
            """).Document!.Triggers[0].Audience!;
        var contact = Contact(Event("app_opened", Days(5)), Event("app_opened", Days(2)), Event("app_opened", Days(1)));

        Assert.Equal((true, false), (audience.Includes(contact, Now, Now - Days(3)), audience.Includes(contact, Now, Now - Days(1) - Duration.FromHours(1))));
    }
}
