using System.Text.Json;
using EventSourcedJourneys.Dispatch.Delivery;
using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using EventSourcedJourneys.Tests.Delivery;
using EventSourcedJourneys.Tests.Infrastructure;
using JasperFx.Core;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Wolverine.Tracking;
using EventSourcedJourneys.Tests.Rules;

namespace EventSourcedJourneys.Tests.Preview;

/// <summary>
/// A published trigger runs live over a morning of tracked events (sent, cancelled, held for the send window, and
/// suppressed by a cap, the audience, a missing address and consent); a preview of the same text over the same range
/// must tell the same story, without sending or appending anything.
/// </summary>
public sealed class when_previewing_a_rule_on_history(AppFixture app) : IntegrationTest(app)
{
    private const string Rules = LiveMorning.Rules;
    private static readonly Instant From = LiveMorning.From;
    private static readonly Instant To = LiveMorning.To;

    /// <summary>What the live engine did, read from the scheduled messages and the decisions on the contacts' streams.</summary>
    private async Task<(int Contacts, int Sent, int Cancelled, Dictionary<string, int> Suppressed, int Rescheduled, int Waiting)> LiveOutcomeAsync()
    {
        var messages = await App.MessagesAsync();
        var suppressed = new Dictionary<string, int>();
        var rescheduled = new HashSet<Guid>();
        foreach (var contact in messages.Select(m => m.ContactId).Distinct())
        {
            foreach (var decision in await App.DecisionsAsync(contact))
            {
                if (decision is MessageSuppressed s)
                {
                    var reason = JsonNamingPolicy.CamelCase.ConvertName(s.Reason.ToString());
                    suppressed[reason] = suppressed.GetValueOrDefault(reason) + 1;
                }
                if (decision is MessageRescheduled r) rescheduled.Add(r.MessageId);
            }
        }
        return (messages.Select(m => m.ContactId).Distinct().Count(),
            messages.Count(m => m.Status == ScheduledMessageStatus.Sent),
            messages.Count(m => m.Status == ScheduledMessageStatus.Cancelled),
            suppressed, rescheduled.Count, messages.Count(m => m.IsWaiting));
    }

    [Fact]
    public async Task the_preview_of_the_published_rule_agrees_with_what_the_live_engine_did()
    {
        await LiveMorning.RunAsync(App);
        var live = await LiveOutcomeAsync();
        // The live morning is what the scenario says it is, so the comparison below compares something.
        Assert.Equal((6, 2, 1, 1, 0), (live.Contacts, live.Sent, live.Cancelled, live.Rescheduled, live.Waiting));
        Assert.Equal(new Dictionary<string, int> { ["audience"] = 1, ["consent"] = 1, ["frequencyCap"] = 1, ["missingAddress"] = 1 },
            live.Suppressed.OrderBy(p => p.Key).ToDictionary());

        var preview = await App.PreviewAsync(Rules, From, To);

        Assert.Equal("completed", preview.GetProperty("status").GetString());
        var result = preview.GetProperty("result");
        var messages = result.GetProperty("messages");
        Assert.Equal(live.Contacts, result.Count("contactsTriggered"));
        Assert.Equal(7, result.Count("contactsEvaluated"));
        Assert.Equal(2, result.Count("contactsReached"));
        Assert.Equal(live.Sent + live.Cancelled + live.Suppressed.Values.Sum() + live.Waiting, messages.Count("entries"));
        Assert.Equal(live.Sent, messages.Count("sent"));
        Assert.Equal(live.Cancelled, messages.Count("cancelled"));
        Assert.Equal(live.Rescheduled, messages.Count("rescheduled"));
        Assert.Equal(live.Waiting, messages.Count("pending"));
        Assert.Equal(live.Suppressed.Values.Sum(), messages.Count("suppressedTotal"));
        foreach (var (reason, count) in live.Suppressed) Assert.Equal(count, messages.Suppressed(reason));
        Assert.Equal(messages.GetRawText(), result.GetProperty("byTrigger").GetProperty("cart_reminder").GetRawText());
    }

    [Fact]
    public async Task each_outcome_names_sample_contacts_with_their_identities()
    {
        await LiveMorning.RunAsync(App);

        var result = (await App.PreviewAsync(Rules, From, To)).GetProperty("result");

        string Users(string outcome) => string.Join(",", result.Sample(outcome)
            .Select(s => s.GetProperty("userIds").EnumerateArray().Single().GetString()).Order());
        Assert.Equal("ana,ben,cat,dan,eve,fay", Users("triggered"));
        Assert.Equal("ana,fay", Users("sent"));
        Assert.Equal("ben", Users("cancelled"));
        Assert.Equal("fay", Users("rescheduled"));
        Assert.Equal("ana", Users("suppressed.frequencyCap"));
        Assert.Equal("dan", Users("suppressed.audience"));
        Assert.Equal("cat", Users("suppressed.missingAddress"));
        Assert.Equal("eve", Users("suppressed.consent"));

        var ben = Assert.Single(result.Sample("cancelled"));
        var benId = (await App.MessagesAsync()).Single(m => m.Status == ScheduledMessageStatus.Cancelled).ContactId;
        Assert.Equal(benId, ben.GetProperty("contactId").GetGuid());
    }

    [Fact]
    public async Task a_changed_draft_shows_what_it_would_do_instead_and_nothing_is_sent_or_appended()
    {
        await LiveMorning.RunAsync(App);
        var store = App.Host.Services.GetRequiredService<IDocumentStore>();
        long EventsNow()
        {
            using var session = store.QuerySession("acme");
            return session.Events.QueryAllRawEvents().CountAsync().GetAwaiter().GetResult();
        }
        var eventsBefore = EventsNow();
        var mailsBefore = App.Smtp.Received.Count;

        // No window, no audience, a cap of 5 a day: only ben's order and cat's missing address and eve's consent stop it.
        var draft = Rules.Replace("    audience segment engaged\n", "").Replace("    send between 09:00 and 21:00 local\n", "")
            .Replace("frequency cap 1 per 1d", "frequency cap 5 per 1d");
        var preview = await App.PreviewAsync(draft, From, To);

        var messages = preview.GetProperty("result").GetProperty("messages");
        Assert.Equal((7, 4, 1, 0), (messages.Count("entries"), messages.Count("sent"), messages.Count("cancelled"), messages.Count("rescheduled")));
        Assert.Equal((1, 1, 0, 0), (messages.Suppressed("missingAddress"), messages.Suppressed("consent"), messages.Suppressed("audience"),
            messages.Suppressed("frequencyCap")));
        Assert.Equal(eventsBefore, EventsNow());
        Assert.Equal(mailsBefore, App.Smtp.Received.Count);
    }

    [Fact]
    public async Task a_finished_preview_reports_its_progress_range_triggers_and_context()
    {
        await LiveMorning.RunAsync(App);
        await App.SaveRuleAsync("vip_only", "segment vip_only = traits.plan = \"vip\"");

        var preview = await App.PreviewAsync(Rules, From, To);

        var progress = preview.GetProperty("progress");
        Assert.Equal(7, progress.Count("contactsTotal"));
        Assert.Equal(7, progress.Count("contactsDone"));
        Assert.Equal(100, progress.Count("percent"));
        Assert.Equal(From.ToString(), preview.GetProperty("from").GetString());
        Assert.Equal(To.ToString(), preview.GetProperty("to").GetString());
        Assert.Equal(App.Clock.GetCurrentInstant().ToString(), preview.GetProperty("horizon").GetString());
        var trigger = Assert.Single(preview.GetProperty("triggers").EnumerateArray());
        Assert.Equal("cart_reminder", trigger.GetProperty("name").GetString());
        Assert.Equal(64, trigger.GetProperty("contentHash").GetString()!.Length);
        var context = Assert.Single(preview.GetProperty("context").EnumerateArray());
        Assert.Equal(("vip_only", "segment", 1),
            (context.GetProperty("name").GetString(), context.GetProperty("kind").GetString(), context.GetProperty("version").GetInt32()));
    }
}
