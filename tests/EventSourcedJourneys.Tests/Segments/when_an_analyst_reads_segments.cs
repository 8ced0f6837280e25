using EventSourcedJourneys.Dispatch.Segments;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Tests.Delivery;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Ingestion;
using EventSourcedJourneys.Tests.Rules;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Segments;

public sealed class when_an_analyst_reads_segments(AppFixture app) : IntegrationTest(app)
{
    private const string Rules = """
        segment signed_up = event "signed_up" ever

        segment gold = traits.plan = "gold"
        """;

    private async Task<Guid> SignUpAsync(string userId)
    {
        await App.TrackAndSettleAsync("/v1/track", new { userId, @event = "signed_up", timestamp = At(App.Clock.GetCurrentInstant()) });
        return Guid.Parse((await App.ContactOfUserAsync(userId)).Id());
    }

    [Fact]
    public async Task members_come_in_stable_pages_and_each_contact_lists_its_segments()
    {
        await App.PublishSegmentsAsync(Rules);
        var contacts = new List<Guid>();
        foreach (var user in new[] { "u1", "u2", "u3", "u4", "u5" }) contacts.Add(await SignUpAsync(user));

        var members = await App.MembersAsync("signed_up", pageSize: 2);
        Assert.Equal(contacts.Order().ToList(), members.Order().ToList());
        Assert.Equal(members, members.Order(Comparer<Guid>.Create(PostgresOrder.Compare)).ToList());
        Assert.Equal(members, await App.MembersAsync("signed_up", pageSize: 2)); // the same order every time

        var third = await App.GetAsync("/segments/signed_up/members?page=3&pageSize=2");
        Assert.Equal(5, third.GetProperty("total").GetInt64());
        Assert.Equal(members[4], Assert.Single(third.GetProperty("members").EnumerateArray()).GetProperty("contactId").GetGuid());
        Assert.Empty((await App.GetAsync("/segments/signed_up/members?page=4&pageSize=2")).GetProperty("members").EnumerateArray());

        var list = (await App.GetAsync("/segments")).EnumerateArray()
            .Select(s => (s.GetProperty("name").GetString(), s.GetProperty("size").GetInt64(), s.GetProperty("version").GetInt32(), s.GetProperty("stale").GetBoolean()))
            .ToList();
        Assert.Equal([("gold", 0L, 1, false), ("signed_up", 5L, 1, false)], list);
        Assert.Equal(["signed_up"], await App.SegmentsOfAsync(contacts[0]));
    }

    [Theory]
    [InlineData("/segments/nobody", 404, null)]
    [InlineData("/segments/nobody/members", 404, null)]
    [InlineData("/segments/signed_up/members?pageSize=0", 400, "pageSize")]
    [InlineData("/segments/signed_up/members?pageSize=1001", 400, "pageSize")]
    [InlineData("/segments/signed_up/members?page=abc", 400, "page")]
    [InlineData("/segments/signed_up/members?page=0", 400, "page")]
    [InlineData("/contacts/3f2504e0-4f89-11d3-9a0c-0305e82c3301/segments", 404, null)]
    public async Task bad_requests_get_problem_details_naming_what_is_wrong(string url, int status, string? field)
    {
        await App.PublishSegmentsAsync(Rules);
        var problem = await App.GetAsync(url, status);
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        if (field is not null) Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        else Assert.Contains(url.Contains("/contacts/") ? "contact" : "nobody", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task another_workspace_sees_none_of_it()
    {
        await App.PublishSegmentsAsync(Rules);
        await SignUpAsync("u1");
        Assert.Equal(0, (await App.SendAsync(HttpMethod.Get, "/segments", null, 200, key: App.Globex.ApiKey)).GetArrayLength());
        await App.SendAsync(HttpMethod.Get, "/segments/signed_up", null, 404, key: App.Globex.ApiKey);
        await App.SendAsync(HttpMethod.Get, "/segments", null, 401, key: "not-a-key");
    }
}
