using System.Text.Json;
using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Tests.Infrastructure;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace EventSourcedJourneys.Tests.Contacts;

/// <summary>The engine's cache of contact histories: a later read brings only what was appended, and never stale events.</summary>
public sealed class when_a_contacts_history_is_read_again(AppFixture app) : IntegrationTest(app)
{
    private static readonly Instant Start = Instant.FromUtc(2026, 12, 1, 9, 0);

    [Fact]
    public async Task the_events_appended_since_are_added_to_those_already_read()
    {
        var store = App.Host.Services.GetRequiredService<IDocumentStore>();
        var cache = new ContactHistoryCache();
        var contact = Guid.CreateVersion7();
        await AppendAsync(store, contact, new IdentityLinked(contact, Identity.User("ada"), "m-0", Start), Tracked(contact, "app_opened", 1),
            Tracked(contact, "product_viewed", 2));

        await using var first = store.QuerySession("acme");
        var before = await cache.ReadAsync(first, contact, CancellationToken.None);
        Assert.Equal(["app_opened", "product_viewed"], before.Select(e => e.Event.Name));

        await AppendAsync(store, contact, Tracked(contact, "cart_updated", 3));
        await using var second = store.QuerySession("acme");
        var after = await cache.ReadAsync(second, contact, CancellationToken.None);

        Assert.Equal(["app_opened", "product_viewed", "cart_updated"], after.Select(e => e.Event.Name));
        Assert.Same(before[0], after[0]); // kept, not read and converted again
        var stored = await second.Events.FetchStreamAsync(contact);
        Assert.Equal(stored.Where(e => e.Data is ContactTracked).Select(e => (e.Id, e.Sequence)), after.Select(e => (e.Ref.EventId, e.Ref.Sequence)));
    }

    [Fact]
    public async Task a_stream_replaced_under_the_same_id_is_read_again_in_full()
    {
        var store = App.Host.Services.GetRequiredService<IDocumentStore>();
        var cache = new ContactHistoryCache();
        var contact = Guid.CreateVersion7();
        await AppendAsync(store, contact, Tracked(contact, "app_opened", 1), Tracked(contact, "product_viewed", 2));
        await using (var session = store.QuerySession("acme"))
            Assert.Equal(2, (await cache.ReadAsync(session, contact, CancellationToken.None)).Count);

        // As a reset between runs does: the stream's events are gone and the same id starts over with other events.
        await using (var session = store.LightweightSession("acme"))
        {
            session.QueueSqlCommand("delete from journeys.mt_events where stream_id = ?", contact);
            session.QueueSqlCommand("delete from journeys.mt_streams where id = ?", contact);
            await session.SaveChangesAsync();
        }
        await AppendAsync(store, contact, Tracked(contact, "order_completed", 5), Tracked(contact, "order_shipped", 6),
            Tracked(contact, "app_opened", 7));

        await using var fresh = store.QuerySession("acme");
        var read = await cache.ReadAsync(fresh, contact, CancellationToken.None);
        Assert.Equal(["order_completed", "order_shipped", "app_opened"], read.Select(e => e.Event.Name));
    }

    private static ContactTracked Tracked(Guid contact, string name, int minute) =>
        new(contact, $"{name}-{minute}-{Guid.NewGuid():N}", name, JsonSerializer.SerializeToElement(new { minute }),
            JsonSerializer.SerializeToElement(new { }), Start.Plus(Duration.FromMinutes(minute)), Start.Plus(Duration.FromMinutes(minute)), "ada", null);

    private static async Task AppendAsync(IDocumentStore store, Guid contact, params object[] events)
    {
        await using var session = store.LightweightSession("acme");
        session.Events.Append(contact, events);
        await session.SaveChangesAsync();
    }
}
