using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Ingestion;
using Marten;

namespace EventSourcedJourneys.Tests.Contacts;

/// <summary>Identity: "app installed" to "registered" is one contact's history; merges are recorded events.</summary>
public sealed class when_an_anonymous_visitor_signs_up(AppFixture app) : IntegrationTest(app)
{
    [Fact]
    public async Task the_anonymous_history_and_the_users_history_are_one_contact()
    {
        await App.PostCallAsync("/v1/track", """{"anonymousId": "device-1", "event": "App Installed", "messageId": "1", "timestamp": "2026-12-01T07:00:00Z"}""");
        await App.PostCallAsync("/v1/screen", """{"anonymousId": "device-1", "name": "Welcome", "messageId": "2", "timestamp": "2026-12-01T07:01:00Z"}""");
        await App.PostCallAsync("/v1/identify", """{"anonymousId": "device-1", "userId": "ada", "traits": {"email": "ada@example.com"}, "messageId": "3", "timestamp": "2026-12-01T07:02:00Z"}""");
        await App.PostCallAsync("/v1/track", """{"userId": "ada", "event": "Registered", "messageId": "4", "timestamp": "2026-12-01T07:03:00Z"}""");

        var contact = await App.ContactOfUserAsync("ada");
        Assert.Equal(contact.Id(), (await App.ContactOfAnonymousAsync("device-1")).Id());
        var calls = await App.CallsOfAsync(contact.Id());
        Assert.Equal(["App Installed", "Welcome", null, "Registered"], calls.Select(c => c.GetProperty("event").GetString()));
        Assert.Equal(["ada"], contact.GetProperty("userIds").EnumerateArray().Select(i => i.GetString()));
        Assert.Equal(["device-1"], contact.GetProperty("anonymousIds").EnumerateArray().Select(i => i.GetString()));
        Assert.Equal("2026-12-01T07:00:00Z", contact.GetProperty("firstSeenAt").GetString());
    }

    [Fact]
    public async Task two_known_contacts_shown_to_be_one_person_are_merged_by_a_recorded_event()
    {
        // The user signed up on the web; later installs the app, browses anonymously, then logs in there.
        await App.PostCallAsync("/v1/identify", """{"userId": "bob", "traits": {"email": "bob@example.com"}, "messageId": "w-1", "timestamp": "2026-12-01T06:00:00Z"}""");
        await App.PostCallAsync("/v1/track", """{"anonymousId": "phone-7", "event": "App Installed", "messageId": "p-1", "timestamp": "2026-12-01T07:00:00Z", "context": {"device": {"token": "push-abc", "type": "ios"}}}""");
        var anonymous = await App.ContactOfAnonymousAsync("phone-7");
        await App.PostCallAsync("/v1/identify", """{"userId": "bob", "anonymousId": "phone-7", "messageId": "p-2", "timestamp": "2026-12-01T07:05:00Z"}""");

        var bob = await App.ContactOfUserAsync("bob");
        Assert.NotEqual(anonymous.Id(), bob.Id());
        Assert.Equal(bob.Id(), (await App.ContactOfAnonymousAsync("phone-7")).Id());
        Assert.Equal(bob.Id(), (await App.ReadAsync($"/contacts/{anonymous.Id()}")).Id());
        Assert.Equal("push-abc", Assert.Single(bob.GetProperty("addresses").GetProperty("pushTokens").EnumerateArray()).GetProperty("token").GetString());
        Assert.Equal("bob@example.com", bob.GetProperty("addresses").GetProperty("email").GetString());

        var calls = await App.CallsOfAsync(bob.Id());
        Assert.Equal(["w-1", "p-1", "p-2"], calls.Select(c => c.GetProperty("messageId").GetString()));
        var merged = Assert.Single(await App.CallsOfAsync(bob.Id(), "type=contactMerged"));
        Assert.Equal(anonymous.Id(), merged.GetProperty("data").GetProperty("mergedContactId").GetString());
        Assert.Equal("p-2", merged.GetProperty("messageId").GetString());

        await App.PostCallAsync("/v1/track", """{"anonymousId": "phone-7", "event": "Opened", "messageId": "p-3", "timestamp": "2026-12-01T07:10:00Z"}""");
        await using var session = App.Host.DocumentStore().QuerySession("acme");
        var opened = await session.Events.QueryRawEventDataOnly<ContactTracked>().Where(e => e.MessageId == "p-3").SingleAsync();
        Assert.Equal(Guid.Parse(bob.Id()), opened.ContactId);
    }

    [Fact]
    public async Task a_device_already_signed_up_as_someone_else_is_not_merged()
    {
        await App.PostCallAsync("/v1/identify", """{"userId": "carol", "anonymousId": "shared-tablet", "messageId": "c-1"}""");
        await App.PostCallAsync("/v1/identify", """{"userId": "dave", "anonymousId": "shared-tablet", "messageId": "d-1"}""");

        var carol = await App.ContactOfUserAsync("carol");
        var dave = await App.ContactOfUserAsync("dave");
        Assert.NotEqual(carol.Id(), dave.Id());
        Assert.Equal(carol.Id(), (await App.ContactOfAnonymousAsync("shared-tablet")).Id());
        Assert.Equal(1, dave.GetProperty("events").GetInt32());
    }

    [Fact]
    public async Task alias_merges_a_previous_user_id_into_the_new_one()
    {
        await App.PostCallAsync("/v1/track", """{"userId": "old-id", "event": "Before", "messageId": "a-1"}""");
        await App.PostCallAsync("/v1/track", """{"userId": "new-id", "event": "After", "messageId": "a-2"}""");
        await App.PostCallAsync("/v1/alias", """{"previousId": "old-id", "userId": "new-id", "messageId": "a-3"}""");

        var contact = await App.ContactOfUserAsync("new-id");
        Assert.Equal(contact.Id(), (await App.ContactOfUserAsync("old-id")).Id());
        Assert.Equal(3, contact.GetProperty("events").GetInt32());
        Assert.Equal(["new-id", "old-id"], contact.GetProperty("userIds").EnumerateArray().Select(i => i.GetString()).Order());
    }
}
