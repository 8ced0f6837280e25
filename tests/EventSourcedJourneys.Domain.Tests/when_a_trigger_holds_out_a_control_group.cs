using System.Security.Cryptography;
using System.Text;
using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Dsl.Compilation;
using NodaTime;
using Channel = EventSourcedJourneys.Domain.Messages.Channel;
using static EventSourcedJourneys.Domain.Tests.Scenario;

namespace EventSourcedJourneys.Domain.Tests;

public sealed class when_a_trigger_holds_out_a_control_group
{
    private static readonly CompiledDocument Rules = RuleCompiler.Compile("""
        trigger promo
            on event "browsed"
            send email "promo"
            goal event "order_completed" within 3d revenue properties.total
            control group 50%
        """).Document!;

    private static readonly Instant Now = Instant.FromUtc(2026, 12, 3, 13, 0);
    private static readonly EventRef Signup = new(Guid.Parse("0195a6c1-0000-7000-8000-0000000000ab"), 7, "signed_up", Now);

    /// <summary>Version 2, published while the message waited; version 1 (<c>Rule("promo")</c>) scheduled it.</summary>
    private static readonly RuleVersionRef Republished = new("promo", 2, new string('c', 64));

    /// <summary>docs/semantics.md's formula, written out again here: SHA-256 of "workspace/trigger/contact", first 8 bytes
    /// big-endian, modulo 10,000.</summary>
    private static int DocumentedBucket(string workspace, string trigger, Guid contact)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(workspace + "/" + trigger + "/" + contact.ToString("D")));
        ulong value = 0;
        for (var i = 0; i < 8; i++) value = (value << 8) | hash[i];
        return (int)(value % 10_000);
    }

    private static Guid ContactNumber(int n) => Guid.Parse($"0195a6c1-0000-7000-8000-{n:D12}");

    private static DueOutcome Decide(Guid contact, ContactReachability? reach = null, string workspace = "acme")
    {
        var pending = new PendingMessage(new MessageScheduled(contact, Guid.Parse("0195a6c1-0000-7000-8000-0000000000ee"), Channel.Email, "promo",
            Now, Now, Rule("promo"), false, Now, Signup), Now);
        return DueDecisions.OnDue(pending, Rules.FindTrigger("promo"), Republished, Rules.Policies, ContactWith(), [], DeliveryHistory.Empty,
            reach ?? Reachable(Channel.Email), DateTimeZone.Utc, DateTimeZone.Utc, workspace, Now);
    }

    [Fact]
    public void the_bucket_is_the_documented_hash_and_does_not_move()
    {
        for (var n = 0; n < 200; n++)
            Assert.Equal(DocumentedBucket("acme", "promo", ContactNumber(n)), ControlGroups.BucketOf("acme", "promo", ContactNumber(n)));
        // Pinned (computed with Python's hashlib), so that a change of the formula, which would reshuffle every holdout, cannot go unnoticed.
        Assert.Equal(6549, ControlGroups.BucketOf("acme", "promo", ContactNumber(1)));
        Assert.NotEqual(ControlGroups.BucketOf("acme", "promo", ContactNumber(1)), ControlGroups.BucketOf("acme", "welcome", ContactNumber(1)));
    }

    [Fact]
    public void a_contact_below_the_share_gets_a_withheld_decision_naming_the_bucket_and_one_above_is_cleared()
    {
        var contacts = Enumerable.Range(0, 40).Select(ContactNumber).ToList();
        var held = contacts.Where(c => DocumentedBucket("acme", "promo", c) < 5000).ToList();
        Assert.NotEmpty(held);
        Assert.NotEqual(contacts.Count, held.Count);

        foreach (var contact in contacts)
        {
            var outcome = Decide(contact);
            if (!held.Contains(contact))
            {
                Assert.IsType<ClearedToSend>(outcome);
                continue;
            }
            var withheld = Assert.IsType<MessageWithheld>(Assert.Single(Assert.IsType<NotSentNow>(outcome).Events));
            Assert.Equal((contact, Rule("promo"), Channel.Email, Now), (withheld.ContactId, withheld.Rule, withheld.Channel, withheld.DecidedAt));
            Assert.Equal((Republished, Signup), (withheld.DecidedUnder, withheld.TriggeringEvent));
            Assert.Equal("50%", withheld.Facts["controlGroup"]);
            Assert.Equal(DocumentedBucket("acme", "promo", contact).ToString(System.Globalization.CultureInfo.InvariantCulture), withheld.Facts["bucket"]);
            Assert.Equal("5000", withheld.Facts["heldOutBelow"]);
        }
    }

    [Fact]
    public void a_control_group_contact_the_message_could_not_reach_anyway_is_suppressed_not_withheld()
    {
        var held = Enumerable.Range(0, 40).Select(ContactNumber).First(c => DocumentedBucket("acme", "promo", c) < 5000);

        var outcome = Assert.IsType<NotSentNow>(Decide(held, ContactReachability.Nowhere));

        Assert.Equal(SuppressionReason.MissingAddress, Assert.IsType<MessageSuppressed>(Assert.Single(outcome.Events)).Reason);
    }

    [Fact]
    public void the_workspace_is_part_of_the_assignment() =>
        Assert.Contains(Enumerable.Range(0, 40).Select(ContactNumber),
            c => Decide(c, workspace: "acme").GetType() != Decide(c, workspace: "globex").GetType());

    [Fact]
    public void a_goal_event_after_a_withheld_message_is_a_control_group_conversion_not_a_credit()
    {
        var order = Event("order_completed", Now + Duration.FromDays(1), """{"total": 40}""");
        var withheld = new GoalCandidate(Guid.Parse("0195a6c1-0000-7000-8000-0000000000ee"), Rule("promo"), Now, false, Channel.Email, Withheld: true);

        var conversion = Assert.IsType<ControlGroupConverted>(Assert.Single(
            GoalDecisions.OnEvent(Contact, order, ContactWith(order), [withheld], name => Rules.FindTrigger(name)?.Goal, Now + Duration.FromDays(1))));

        Assert.Equal((withheld.MessageId, order.Ref, Now, 40m), (conversion.MessageId, conversion.ConversionEvent, conversion.WithheldAt, conversion.Revenue));
        Assert.Empty(GoalDecisions.OnEvent(Contact, order, ContactWith(order), [withheld with { SentAt = Now - Duration.FromDays(4) }],
            name => Rules.FindTrigger(name)?.Goal, Now + Duration.FromDays(1)));
    }
}
