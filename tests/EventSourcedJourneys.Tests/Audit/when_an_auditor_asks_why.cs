using System.Globalization;
using System.Text.Json;
using Alba;
using EventSourcedJourneys.Dispatch.Audit;
using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using EventSourcedJourneys.Tests.Delivery;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Rules;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Npgsql;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Audit;

/// <summary>The seed scenarios, explained by replaying the store: the abandoned-cart reminder, a frequency-cap
/// suppression, a send-window hold and a cancellation by an exception event; and a corrupted record is caught.</summary>
public sealed class when_an_auditor_asks_why(AppFixture app) : IntegrationTest(app)
{
    private const string Rules = """
        segment active_buyers =
            count(event "order_completed" in last 45d) >= 1

        trigger abandoned_cart_over_100
            on event "cart_updated" where properties.total > 100
            wait 30m
            cancel if event "order_completed"
            audience segment active_buyers
            send inapp "cart-reminder"

        trigger late_cart
            on event "cart_viewed"
            send email "late-cart"
            send between 09:00 and 21:00 local

        trigger promo
            on event "promo_viewed"
            send inapp "promo"

        trigger vip_expiry_reminder
            on date traits.vip_expires_at minus 30d, 15d at 10:00 local
            send inapp "vip-expiry"

        policy frequency cap 3 per 1d, 10 per 7d
        """;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await App.PublishDocumentAsync(Rules);
        await App.SaveTemplateAsync("cart-reminder", Channel.InApp, "You left {{ properties.total }} in your cart.", title: "Still thinking?");
        await App.SaveTemplateAsync("late-cart", Channel.Email, "Your cart is waiting.", subject: "Your cart");
        await App.SaveTemplateAsync("promo", Channel.InApp, "Today only!", title: "Promo");
        await App.SaveTemplateAsync("vip-expiry", Channel.InApp, "Your VIP membership ends soon.", title: "VIP");
        var now = App.Clock.GetCurrentInstant();
        await App.TrackAndSettleAsync("/v1/identify", new
        {
            userId = "ana", traits = new { first_name = "Ana", email = "ana@example.com" }, context = new { timezone = "Europe/Paris" }, timestamp = At(now),
        });
        await App.TrackAsync("/v1/track", new { userId = "ana", @event = "order_completed", properties = new { total = 40 },
            timestamp = At(now - Duration.FromDays(10)) });
    }

    private object Track(string name, object? properties = null) => new
    {
        userId = "ana", @event = name, properties = properties ?? new { }, timestamp = At(App.Clock.GetCurrentInstant()),
    };

    private Task<JsonElement> ExplainAsync(Guid messageId) => App.GetAsync($"/messages/{messageId}/explanation");

    private async Task<ScheduledMessage> OnlyMessageAsync(string rule) => Assert.Single(await App.MessagesAsync(), m => m.Rule == rule);

    private static List<JsonElement> Decisions(JsonElement explanation) => explanation.GetProperty("decisions").EnumerateArray().ToList();

    private static void AssertReproduced(JsonElement decision) =>
        Assert.True(decision.GetProperty("replay").GetProperty("reproduced").GetBoolean(), decision.GetProperty("account").GetString());

    [Fact]
    public async Task the_abandoned_cart_reminder_is_explained_from_event_to_delivery()
    {
        await App.TrackAndSettleAsync("/v1/track", Track("cart_updated", new { total = 150 }));
        await App.AdvanceAndSettleAsync(Duration.FromMinutes(30));
        var message = await OnlyMessageAsync("abandoned_cart_over_100");

        var explanation = await ExplainAsync(message.Id);

        Assert.Equal("sent", explanation.GetProperty("outcome").GetString());
        Assert.True(explanation.GetProperty("reproduced").GetBoolean());
        var rule = explanation.GetProperty("rule");
        Assert.Equal(1, rule.GetProperty("version").GetInt32());
        Assert.Contains("on event \"cart_updated\" where properties.total > 100", rule.GetProperty("text").GetString());
        Assert.True(rule.GetProperty("textMatchesHash").GetBoolean());
        var trigger = explanation.GetProperty("trigger");
        Assert.Equal("cart_updated", trigger.GetProperty("event").GetProperty("name").GetString());
        Assert.Equal(message.TriggeringEvent!.Sequence, trigger.GetProperty("event").GetProperty("sequence").GetInt64());
        Assert.Equal("150", trigger.GetProperty("facts").GetProperty("properties.total").GetString());

        var decisions = Decisions(explanation);
        Assert.Equal(["entry", "cleared"], decisions.Select(d => d.GetProperty("kind").GetString()));
        decisions.ForEach(AssertReproduced);
        var checks = decisions[1].GetProperty("checks");
        Assert.Equal(0, checks.GetProperty("exceptionEvents").GetProperty("candidates").GetArrayLength());
        Assert.Equal("order_completed", checks.GetProperty("exceptionEvents").GetProperty("cancelIf")[0].GetString());
        Assert.True(checks.GetProperty("audience").GetProperty("included").GetBoolean());
        Assert.Equal("active_buyers", checks.GetProperty("audience").GetProperty("segments")[0].GetString());
        Assert.All(checks.GetProperty("frequencyCaps").EnumerateArray(), cap => Assert.Equal(0, cap.GetProperty("received").GetInt32()));
        var attempt = Assert.Single(explanation.GetProperty("attempts").EnumerateArray());
        Assert.Equal("sent", attempt.GetProperty("outcome").GetString());
        var account = string.Join("\n", explanation.GetProperty("account").EnumerateArray().Select(a => a.GetString()));
        Assert.Contains("started trigger 'abandoned_cart_over_100' version 1", account);
        Assert.Contains("no exception event (\"order_completed\") happened", account);
        Assert.Contains("reproduces every decision", account);
        Assert.NotEmpty(explanation.GetProperty("simplifications").EnumerateArray());
    }

    [Fact]
    public async Task a_suppression_by_the_frequency_cap_shows_the_count_at_that_instant()
    {
        for (var i = 0; i < 3; i++)
        {
            await App.TrackAndSettleAsync("/v1/track", Track("promo_viewed"));
            await App.AdvanceClockAsync(Duration.FromMinutes(10));
        }
        await App.TrackAndSettleAsync("/v1/track", Track("promo_viewed"));
        var capped = Assert.Single(await App.MessagesAsync(), m => m.Status == ScheduledMessageStatus.Suppressed);

        var explanation = await ExplainAsync(capped.Id);

        Assert.Equal("suppressed", explanation.GetProperty("outcome").GetString());
        Assert.True(explanation.GetProperty("reproduced").GetBoolean());
        var due = Decisions(explanation).Single(d => d.GetProperty("kind").GetString() == "due");
        AssertReproduced(due);
        var daily = due.GetProperty("checks").GetProperty("frequencyCaps")[0];
        Assert.Equal("3 per 1d", daily.GetProperty("cap").GetString());
        Assert.Equal(3, daily.GetProperty("received").GetInt32());
        Assert.True(daily.GetProperty("reached").GetBoolean());
        Assert.Contains("suppressed (frequencyCap)", due.GetProperty("account").GetString());

        // The same depth for the contact who did not get it, and only the messages not sent.
        var listed = await App.GetAsync($"/contacts/{capped.ContactId}/decisions?rule=promo");
        var only = Assert.Single(listed.GetProperty("decisions").EnumerateArray());
        Assert.Equal(capped.Id, only.GetProperty("messageId").GetGuid());
        Assert.Equal(0, (await App.GetAsync($"/contacts/{capped.ContactId}/decisions?rule=late_cart")).GetProperty("decisions").GetArrayLength());

        // A second capped message: one per page, in the order they were decided.
        await App.AdvanceClockAsync(Duration.FromMinutes(1));
        await App.TrackAndSettleAsync("/v1/track", Track("promo_viewed"));
        var first = await App.GetAsync($"/contacts/{capped.ContactId}/decisions?limit=1");
        Assert.Equal(capped.Id, Assert.Single(first.GetProperty("decisions").EnumerateArray()).GetProperty("messageId").GetGuid());
        var second = await App.GetAsync($"/contacts/{capped.ContactId}/decisions?limit=1&after={first.GetProperty("next").GetInt64()}");
        var other = Assert.Single(second.GetProperty("decisions").EnumerateArray());
        Assert.NotEqual(capped.Id, other.GetProperty("messageId").GetGuid());
        Assert.Equal("suppressed", other.GetProperty("outcome").GetString());
        Assert.True(other.GetProperty("reproduced").GetBoolean());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);
        await App.SendAsync(HttpMethod.Get, $"/contacts/{capped.ContactId}/decisions?limit=0", null, 400);
    }

    [Fact]
    public async Task a_send_window_hold_shows_the_local_time_and_the_next_opening()
    {
        await App.AdvanceClockAsync(Duration.FromHours(14)); // 22:00 UTC = 23:00 in Paris
        await App.TrackAndSettleAsync("/v1/track", Track("cart_viewed"));
        await App.AdvanceAndSettleAsync(Duration.FromHours(10));
        var message = await OnlyMessageAsync("late_cart");

        var explanation = await ExplainAsync(message.Id);

        Assert.Equal("sent", explanation.GetProperty("outcome").GetString());
        var decisions = Decisions(explanation);
        Assert.Equal(["entry", "due", "cleared"], decisions.Select(d => d.GetProperty("kind").GetString()));
        decisions.ForEach(AssertReproduced);
        var window = decisions[1].GetProperty("checks").GetProperty("sendWindow");
        Assert.Equal("09:00-21:00", window.GetProperty("window").GetString());
        Assert.Equal("Europe/Paris", window.GetProperty("zone").GetString());
        Assert.Equal("2026-12-01T23:00:00", window.GetProperty("localTime").GetString());
        Assert.False(window.GetProperty("open").GetBoolean());
        Assert.Equal("2026-12-02T08:00:00Z", window.GetProperty("nextOpening").GetString());
        Assert.True(decisions[2].GetProperty("checks").GetProperty("sendWindow").GetProperty("open").GetBoolean());
        Assert.Contains("held to 2026-12-02T08:00:00Z", decisions[1].GetProperty("account").GetString());
        var records = (await App.DecisionsAsync(message.ContactId)).OfType<IDecisionRecord>().ToList();
        Assert.Equal([typeof(MessageRescheduled), typeof(MessageSent)], records.Select(r => r.GetType()));
        await AssertNamedAsync(records, new Dictionary<Guid, ScheduledMessage> { [message.Id] = message });
    }

    [Fact]
    public async Task a_cancellation_names_the_exception_event_that_caused_it()
    {
        await App.TrackAndSettleAsync("/v1/track", Track("cart_updated", new { total = 150 }));
        await App.AdvanceClockAsync(Duration.FromMinutes(29));
        await App.TrackAndSettleAsync("/v1/track", Track("order_completed", new { total = 150 }));
        await App.AdvanceAndSettleAsync(Duration.FromMinutes(1));
        var message = await OnlyMessageAsync("abandoned_cart_over_100");

        var explanation = await ExplainAsync(message.Id);

        Assert.Equal("cancelled", explanation.GetProperty("outcome").GetString());
        var due = Decisions(explanation).Single(d => d.GetProperty("kind").GetString() == "due");
        AssertReproduced(due);
        var cancelling = Assert.Single(due.GetProperty("checks").GetProperty("exceptionEvents").GetProperty("candidates").EnumerateArray());
        Assert.True(cancelling.GetProperty("cancels").GetBoolean());
        Assert.Equal("order_completed", cancelling.GetProperty("event").GetProperty("name").GetString());
        Assert.Equal("messageCancelled", due.GetProperty("recorded")[0].GetProperty("type").GetString());
        Assert.Contains("cancelled by the exception event \"order_completed\"", due.GetProperty("account").GetString());
        Assert.Empty(explanation.GetProperty("attempts").EnumerateArray());
    }

    [Fact]
    public async Task a_decision_record_rewritten_in_the_database_is_reported_as_not_reproduced()
    {
        for (var i = 0; i < 3; i++)
        {
            await App.TrackAndSettleAsync("/v1/track", Track("promo_viewed"));
            await App.AdvanceClockAsync(Duration.FromMinutes(10));
        }
        await App.TrackAndSettleAsync("/v1/track", Track("promo_viewed"));
        var capped = Assert.Single(await App.MessagesAsync(), m => m.Status == ScheduledMessageStatus.Suppressed);

        await ExecuteSqlAsync("update journeys.mt_events set data = jsonb_set(data, '{Facts,received}', '\"1\"') " +
            $"where type = 'message_suppressed' and data->>'MessageId' = '{capped.Id}'");

        var explanation = await ExplainAsync(capped.Id);
        Assert.False(explanation.GetProperty("reproduced").GetBoolean());
        var due = Decisions(explanation).Single(d => d.GetProperty("kind").GetString() == "due");
        var replay = due.GetProperty("replay");
        Assert.False(replay.GetProperty("reproduced").GetBoolean());
        var difference = Assert.Single(replay.GetProperty("differences").EnumerateArray(), d => d.GetProperty("field").GetString() == "facts.received");
        Assert.Equal("1", difference.GetProperty("recorded").GetString());
        Assert.Equal("3", difference.GetProperty("replayed").GetString());
        Assert.Contains("does NOT reproduce", due.GetProperty("account").GetString());
    }

    [Fact]
    public async Task a_rule_text_rewritten_in_the_database_no_longer_matches_its_hash_and_the_replay_differs()
    {
        await App.TrackAndSettleAsync("/v1/track", Track("cart_updated", new { total = 150 }));
        var message = await OnlyMessageAsync("abandoned_cart_over_100");

        // Someone edits version 1 in place, so that it would no longer match this cart.
        await ExecuteSqlAsync("update journeys.mt_doc_rulestate set data = jsonb_set(data, '{Versions,0,Text}', " +
            "to_jsonb(replace(data->'Versions'->0->>'Text', 'properties.total > 100', 'properties.total > 500'))) " +
            "where data->>'Name' = 'abandoned_cart_over_100'");

        var explanation = await ExplainAsync(message.Id);
        Assert.False(explanation.GetProperty("reproduced").GetBoolean());
        Assert.False(explanation.GetProperty("rule").GetProperty("textMatchesHash").GetBoolean());
        var entry = Decisions(explanation)[0];
        var differences = entry.GetProperty("replay").GetProperty("differences").EnumerateArray().Select(d => d.GetProperty("field").GetString()).ToList();
        Assert.Contains("rules.abandoned_cart_over_100.v1.text", differences);
        Assert.Contains("decisions", differences); // the altered text matches nothing: no entry, no schedule
    }

    [Fact]
    public async Task the_decisions_of_a_contact_and_of_a_rule_export_as_json_lines()
    {
        await App.TrackAndSettleAsync("/v1/track", Track("cart_updated", new { total = 150 }));
        await App.AdvanceAndSettleAsync(Duration.FromMinutes(30));
        var message = await OnlyMessageAsync("abandoned_cart_over_100");
        // Engagement reported back about the message is part of its trail, not a decision: neither listed nor in the way.
        await App.TrackAndSettleAsync("/v1/track", new
        {
            userId = "ana", @event = "Email Opened", messageId = "receipt-1", properties = new { message_id = message.Id.ToString() },
            timestamp = At(App.Clock.GetCurrentInstant()),
        });
        Assert.True((await ExplainAsync(message.Id)).GetProperty("reproduced").GetBoolean());

        var byContact = await ExportAsync($"/audit/decisions?contactId={message.ContactId}");
        Assert.Equal(["triggerMatched", "messageScheduled", "inboxMessageDelivered", "messageSent"], byContact.Select(l => l.GetProperty("type").GetString()));
        Assert.All(byContact, l =>
        {
            Assert.Equal(message.Id, l.GetProperty("messageId").GetGuid());
            Assert.Equal("abandoned_cart_over_100", l.GetProperty("rule").GetString());
            Assert.Equal(1, l.GetProperty("ruleVersion").GetInt32());
            Assert.Equal(64, l.GetProperty("ruleHash").GetString()!.Length);
        });
        Assert.Equal("150", byContact[0].GetProperty("data").GetProperty("facts").GetProperty("properties.total").GetString());

        var byRule = await ExportAsync("/audit/decisions?rule=abandoned_cart_over_100&from=2026-12-01T08:10:00Z");
        Assert.Equal(["inboxMessageDelivered", "messageSent"], byRule.Select(l => l.GetProperty("type").GetString()));
        Assert.All(byRule, l => Assert.Equal(JsonValueKind.Null, l.GetProperty("reproduced").ValueKind));
        var replayed = await ExportAsync($"/audit/decisions?contactId={message.ContactId}&replay=true");
        // Entry (matched + scheduled) and the clearance replayed at the first attempt; the attempts themselves are not replayed.
        Assert.Equal(["true", "true", "true", "null"], replayed.Select(l => l.GetProperty("reproduced").GetRawText()));
        Assert.Empty(await ExportAsync("/audit/decisions?rule=promo"));
        await App.SendAsync(HttpMethod.Get, "/audit/decisions", null, 400);
        await App.SendAsync(HttpMethod.Get, $"/messages/{Guid.NewGuid()}/explanation", null, 404);
        await App.SendAsync(HttpMethod.Get, $"/messages/{message.Id}/explanation", null, 404, key: App.Globex.ApiKey);
    }

    [Fact]
    public async Task the_replay_does_not_depend_on_the_culture_it_runs_in()
    {
        await App.TrackAndSettleAsync("/v1/track", Track("cart_updated", new { total = 150.5 }));
        var message = await OnlyMessageAsync("abandoned_cart_over_100");
        var store = App.Host.Services.GetRequiredService<IDocumentStore>();
        await using var session = store.QuerySession("acme");
        var trail = await AuditTrails.LoadAsync(session, store, message.ContactId, CancellationToken.None);

        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE"); // writes 150.5 as "150,5"
            var explanation = DecisionReplay.Explain(trail!, message.Id, "acme", DateTimeZone.Utc, null)!;
            Assert.True(explanation.Reproduced, string.Join("\n", explanation.Account));
            Assert.Equal("150.5", explanation.Trigger!.Facts["properties.total"]);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public async Task a_date_reminder_is_explained_from_the_identify_that_planned_it()
    {
        await App.TrackAndSettleAsync("/v1/identify", new
        {
            userId = "ana", traits = new { vip_expires_at = "2027-02-15" }, timestamp = At(App.Clock.GetCurrentInstant()),
        });
        var first = (await App.MessagesAsync()).Where(m => m.Rule == "vip_expiry_reminder").OrderBy(m => m.DueAt).First();
        Assert.Equal(Instant.FromUtc(2027, 1, 16, 9, 0), first.DueAt); // 10:00 in Paris, 30 days before

        var explanation = await ExplainAsync(first.Id);

        Assert.True(explanation.GetProperty("reproduced").GetBoolean());
        var entry = Assert.Single(Decisions(explanation));
        AssertReproduced(entry);
        Assert.Equal("identify", explanation.GetProperty("trigger").GetProperty("event").GetProperty("name").GetString());
        Assert.Equal("2027-02-15", explanation.GetProperty("trigger").GetProperty("facts").GetProperty("date").GetString());
        Assert.Contains("occurrence = 2027-01-16T09:00:00Z", entry.GetProperty("account").GetString());
    }

    [Fact]
    public async Task a_rule_republished_during_the_wait_is_named_at_each_decision_with_the_version_live_then()
    {
        await App.TrackAndSettleAsync("/v1/track", Track("cart_updated", new { total = 150 }));
        await App.AdvanceClockAsync(Duration.FromMinutes(10));
        await App.SaveRuleAsync("abandoned_cart_over_100", """
            trigger abandoned_cart_over_100
                on event "cart_updated" where properties.total > 100
                wait 30m
                cancel if event "order_completed"
                send inapp "cart-reminder"
            """);
        await App.PublishAsync("abandoned_cart_over_100");
        await App.AdvanceAndSettleAsync(Duration.FromMinutes(20));
        var message = await OnlyMessageAsync("abandoned_cart_over_100");

        var explanation = await ExplainAsync(message.Id);

        Assert.True(explanation.GetProperty("reproduced").GetBoolean());
        var decisions = Decisions(explanation);
        Assert.Equal(1, decisions[0].GetProperty("rule").GetProperty("version").GetInt32());
        Assert.Equal(2, decisions[1].GetProperty("rule").GetProperty("version").GetInt32());
        Assert.DoesNotContain("audience", decisions[1].GetProperty("rule").GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Null, decisions[1].GetProperty("checks").GetProperty("audience").ValueKind);
        decisions.ForEach(AssertReproduced);

        // The delivery records name version 2, under which the message was cleared; the entry stays version 1's.
        var v1 = (1, message.RuleHash);
        var v2 = (2, decisions[1].GetProperty("rule").GetProperty("contentHash").GetString());
        Assert.NotEqual(v1, v2);
        var delivered = (await App.DecisionsAsync(message.ContactId)).OfType<IDecisionRecord>().ToList();
        Assert.Equal([typeof(InboxMessageDelivered), typeof(MessageSent)], delivered.Select(d => d.GetType()));
        Assert.All(delivered, d =>
        {
            Assert.Equal(new RuleVersionRef("abandoned_cart_over_100", v2.Item1, v2.Item2!), d.DecidedUnder);
            Assert.Equal(message.TriggeringEvent, d.TriggeringEvent);
        });
        var lines = await ExportAsync($"/audit/decisions?contactId={message.ContactId}");
        Assert.Equal([("triggerMatched", v1), ("messageScheduled", v1), ("inboxMessageDelivered", v2), ("messageSent", v2)],
            lines.Select(l => (l.GetProperty("type").GetString(), (l.GetProperty("ruleVersion").GetInt32(), l.GetProperty("ruleHash").GetString()))));
    }

    [Fact]
    public async Task every_decision_after_the_entry_names_its_rule_version_and_the_event_that_started_the_message()
    {
        await App.SaveRuleAsync("unrenderable", """
            trigger unrenderable
                on event "coupon_viewed"
                send inapp "no-such-template"
            """);
        await App.PublishAsync("unrenderable");
        await App.TrackAndSettleAsync("/v1/track", Track("cart_updated", new { total = 150 }));
        await App.AdvanceClockAsync(Duration.FromMinutes(29));
        await App.TrackAndSettleAsync("/v1/track", Track("order_completed", new { total = 150 }));
        await App.AdvanceAndSettleAsync(Duration.FromMinutes(1));
        await App.TrackAndSettleAsync("/v1/track", Track("coupon_viewed"));
        for (var i = 0; i < 4; i++)
        {
            await App.AdvanceClockAsync(Duration.FromMinutes(10));
            await App.TrackAndSettleAsync("/v1/track", Track("promo_viewed"));
        }
        var messages = (await App.MessagesAsync()).ToDictionary(m => m.Id);

        var records = (await App.DecisionsAsync(messages.Values.First().ContactId)).OfType<IDecisionRecord>().ToList();

        // Cancelled (cart), failed (no template), sent three times (promo: inbox and sent), suppressed by the cap (fourth promo).
        string[] sentOnce = [nameof(InboxMessageDelivered), nameof(MessageSent)];
        Assert.Equal([nameof(MessageCancelled), nameof(MessageFailed), .. sentOnce, .. sentOnce, .. sentOnce, nameof(MessageSuppressed)],
            records.Select(r => r.GetType().Name));
        await AssertNamedAsync(records, messages);
    }

    [Fact]
    public async Task a_rule_version_or_triggering_event_rewritten_on_a_decision_is_reported_as_not_reproduced()
    {
        await App.TrackAndSettleAsync("/v1/track", Track("cart_updated", new { total = 150 }));
        await App.AdvanceClockAsync(Duration.FromMinutes(29));
        await App.TrackAndSettleAsync("/v1/track", Track("order_completed", new { total = 150 }));
        await App.AdvanceAndSettleAsync(Duration.FromMinutes(1));
        await App.TrackAndSettleAsync("/v1/track", Track("promo_viewed"));
        var cancelled = await OnlyMessageAsync("abandoned_cart_over_100");
        var sent = await OnlyMessageAsync("promo");
        Assert.True((await ExplainAsync(cancelled.Id)).GetProperty("reproduced").GetBoolean());
        Assert.True((await ExplainAsync(sent.Id)).GetProperty("reproduced").GetBoolean());

        await ExecuteSqlAsync("update journeys.mt_events set data = jsonb_set(data, '{DecidedUnder,Version}', '7') " +
            $"where type = 'message_cancelled' and data->>'MessageId' = '{cancelled.Id}'");
        await ExecuteSqlAsync("update journeys.mt_events set data = jsonb_set(data, '{TriggeringEvent,Sequence}', '1') " +
            $"where type = 'message_sent' and data->>'MessageId' = '{sent.Id}'");

        var due = Decisions(await ExplainAsync(cancelled.Id)).Single(d => d.GetProperty("kind").GetString() == "due");
        Assert.False(due.GetProperty("replay").GetProperty("reproduced").GetBoolean());
        var version = Assert.Single(due.GetProperty("replay").GetProperty("differences").EnumerateArray());
        Assert.Equal(("decidedUnder.version", "7", "1"),
            (version.GetProperty("field").GetString(), version.GetProperty("recorded").GetString(), version.GetProperty("replayed").GetString()));

        var explanation = await ExplainAsync(sent.Id);
        Assert.False(explanation.GetProperty("reproduced").GetBoolean());
        var cleared = Decisions(explanation).Single(d => d.GetProperty("kind").GetString() == "cleared");
        var sequence = Assert.Single(cleared.GetProperty("replay").GetProperty("differences").EnumerateArray());
        Assert.EndsWith("].triggeringEvent.sequence", sequence.GetProperty("field").GetString());
        Assert.StartsWith("messageSent[", sequence.GetProperty("field").GetString());
        Assert.Equal(("1", sent.TriggeringEvent!.Sequence.ToString(CultureInfo.InvariantCulture)),
            (sequence.GetProperty("recorded").GetString(), sequence.GetProperty("replayed").GetString()));
        Assert.Contains("does NOT reproduce", cleared.GetProperty("account").GetString());
    }

    /// <summary>Each record names the version its message was scheduled under (nothing was republished) and the triggering
    /// event, which is the stored event at that sequence.</summary>
    private async Task AssertNamedAsync(IReadOnlyList<IDecisionRecord> records, IReadOnlyDictionary<Guid, ScheduledMessage> messages)
    {
        await using var session = App.Host.Services.GetRequiredService<IDocumentStore>().QuerySession("acme");
        foreach (var record in records)
        {
            var message = messages[record.MessageId];
            Assert.Equal(new RuleVersionRef(message.Rule!, message.RuleVersion!.Value, message.RuleHash!), record.DecidedUnder);
            Assert.Equal(64, record.DecidedUnder!.ContentHash.Length);
            var triggering = Assert.IsType<EventRef>(record.TriggeringEvent);
            Assert.Equal(message.TriggeringEvent, triggering);
            var stored = await session.Events.QueryAllRawEvents().Where(e => e.Sequence == triggering.Sequence).SingleAsync();
            Assert.Equal(triggering.EventId, stored.Id);
        }
    }

    private async Task<IReadOnlyList<JsonElement>> ExportAsync(string url)
    {
        var result = await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {App.Acme.ApiKey}");
            s.Get.Url(url);
            s.StatusCodeShouldBe(200);
            s.ContentTypeShouldBe("application/x-ndjson");
        });
        var text = await result.ReadAsTextAsync();
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    private async Task ExecuteSqlAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}
