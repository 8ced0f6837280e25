using System.Text.Json;
using EventSourcedJourneys.Dispatch.Templates;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Rules;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedJourneys.Tests.Templates;

public sealed class when_a_marketer_saves_templates(AppFixture app) : IntegrationTest(app)
{
    private static readonly object CartEmail = new
    {
        channel = "email",
        subject = "{{ traits.first_name }}, your cart misses you",
        body = "Hi {{ traits.first_name | default: 'there' }}, {{ properties.total }} USD is waiting.",
        html = "<p>Hi {{ traits.first_name }}</p>",
    };

    private Task<JsonElement> Get(string url, int status = 200, string? key = null) =>
        App.SendAsync(HttpMethod.Get, url, null, status, key);

    private Task<JsonElement> Put(string name, object body, int status, string? key = null) =>
        App.SendAsync(HttpMethod.Put, $"/templates/{name}", body, status, key);

    [Fact]
    public async Task a_template_is_saved_and_read_back_with_its_version()
    {
        var saved = await Put("cart-reminder", CartEmail, 201);
        Assert.Equal(1, saved.GetProperty("version").GetInt32());
        Assert.Equal("email", saved.GetProperty("channel").GetString());

        var template = await Get("/templates/cart-reminder/email");
        Assert.Equal("{{ traits.first_name }}, your cart misses you", template.GetProperty("subject").GetString());
        Assert.Equal("<p>Hi {{ traits.first_name }}</p>", template.GetProperty("html").GetString());
        Assert.Equal("2026-12-01T08:00:00Z", template.GetProperty("updatedAt").GetString());

        var again = await Put("cart-reminder", CartEmail, 200);
        Assert.False(again.GetProperty("changed").GetBoolean());
        Assert.Equal(1, again.GetProperty("version").GetInt32());

        var changed = await Put("cart-reminder", new { channel = "email", subject = "New subject", body = "x" }, 200);
        Assert.True(changed.GetProperty("changed").GetBoolean());
        Assert.Equal(2, changed.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task one_name_has_a_template_per_channel()
    {
        await Put("cart-reminder", CartEmail, 201);
        await Put("cart-reminder", new { channel = "sms", body = "{{ traits.first_name }}, your cart: {{ properties.total }} USD" }, 201);
        await Put("welcome", new { channel = "push", body = "Welcome!", title = "Hi {{ traits.first_name }}", data = new { url = "app://home" } }, 201);

        var group = await Get("/templates/cart-reminder");
        Assert.Equal(["email", "sms"], group.GetProperty("channels").EnumerateArray().Select(t => t.GetProperty("channel").GetString()));

        var list = await Get("/templates");
        Assert.Equal(["cart-reminder/email", "cart-reminder/sms", "welcome/push"],
            list.EnumerateArray().Select(t => $"{t.GetProperty("name").GetString()}/{t.GetProperty("channel").GetString()}"));
        Assert.Single((await Get("/templates?channel=push")).EnumerateArray());
        Assert.Equal("app://home", (await Get("/templates/welcome/push")).GetProperty("data").GetProperty("url").GetString());
    }

    [Fact]
    public async Task a_parse_error_names_the_field_and_its_line_and_column()
    {
        var problem = await Put("cart-reminder", new
        {
            channel = "email",
            subject = "Fine {{ traits.first_name }}",
            body = "Hi,\n{% for item in properties.items %}{{ item.name }}",
        }, 422);

        Assert.Equal("The template does not parse", problem.GetProperty("title").GetString());
        var diagnostic = Assert.Single(problem.GetProperty("diagnostics").EnumerateArray());
        Assert.Equal("body", diagnostic.GetProperty("field").GetString());
        Assert.Equal(2, diagnostic.GetProperty("line").GetInt32());
        Assert.True(diagnostic.GetProperty("column").GetInt32() > 1);
        Assert.Contains("endfor", diagnostic.GetProperty("message").GetString());
        Assert.StartsWith("2:", problem.GetProperty("errors").GetProperty("body")[0].GetString());
        await Get("/templates/cart-reminder/email", 404);
    }

    [Fact]
    public async Task an_unknown_filter_is_refused_in_the_field_it_is_in()
    {
        var problem = await Put("cart-reminder", new { channel = "email", subject = "{{ traits.name | shout }}", body = "x" }, 422);

        Assert.Equal("Unknown filter 'shout'", problem.GetProperty("errors").GetProperty("subject")[0].GetString());
    }

    [Fact]
    public async Task an_unknown_channel_is_a_field_error()
    {
        var problem = await Put("cart-reminder", new { channel = "pigeon", body = "x" }, 400);

        Assert.Contains("email, sms, push, webpush, inapp, whatsapp, webhook", problem.GetProperty("errors").GetProperty("channel")[0].GetString());
        await Get("/templates/cart-reminder/pigeon", 400);
    }

    [Fact]
    public async Task fields_a_channel_does_not_have_or_needs_are_field_errors()
    {
        var sms = await Put("cart-reminder", new { channel = "sms", subject = "no", body = "x", html = "<p>no</p>", title = "no" }, 400);
        var errors = sms.GetProperty("errors");
        Assert.Contains("Only email templates have a subject", errors.GetProperty("subject")[0].GetString());
        Assert.True(errors.TryGetProperty("html", out _));
        Assert.True(errors.TryGetProperty("title", out _));

        var email = await Put("cart-reminder", new { channel = "email", body = "" }, 400);
        Assert.True(email.GetProperty("errors").TryGetProperty("subject", out _));
        Assert.True(email.GetProperty("errors").TryGetProperty("body", out _));

        var push = await Put("welcome", new { channel = "push", body = "x", data = new Dictionary<string, string> { ["google.c"] = "x" } }, 400);
        Assert.True(push.GetProperty("errors").TryGetProperty("data.google.c", out _));
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("-dash-first")]
    public async Task a_bad_name_is_refused(string name)
    {
        await Put(Uri.EscapeDataString(name), CartEmail, 400);
    }

    [Fact]
    public async Task workspaces_do_not_see_each_others_templates_and_may_share_names()
    {
        await Put("cart-reminder", CartEmail, 201);
        await Get("/templates/cart-reminder", 404, key: App.Globex.ApiKey);
        Assert.Empty((await Get("/templates", key: App.Globex.ApiKey)).EnumerateArray());

        var globex = await Put("cart-reminder", new { channel = "email", subject = "Globex", body = "Globex body" }, 201, App.Globex.ApiKey);
        Assert.Equal(1, globex.GetProperty("version").GetInt32());
        Assert.Equal("Globex", (await Get("/templates/cart-reminder/email", key: App.Globex.ApiKey)).GetProperty("subject").GetString());
        Assert.Equal("{{ traits.first_name }}, your cart misses you",
            (await Get("/templates/cart-reminder/email")).GetProperty("subject").GetString());
    }

    [Fact]
    public async Task the_engine_renders_a_saved_template_from_its_workspace()
    {
        await Put("cart-reminder", new { channel = "sms", body = "Hi {{ traits.first_name }}, {{ properties.total }} USD in your cart." }, 201);
        var renderer = App.Host.Services.GetRequiredService<TemplateRenderer>();
        var model = new TemplateModel(Guid.NewGuid(), Guid.NewGuid(), "acme", AppFixture.Start,
            Traits: JsonDocument.Parse("""{"first_name":"Ann"}""").RootElement,
            Event: new TemplateEvent("cart_updated", JsonDocument.Parse("""{"total":120}""").RootElement));

        await using (var acme = App.Host.Services.GetRequiredService<IDocumentStore>().QuerySession("acme"))
        {
            var rendered = Assert.IsType<RenderOutcome.Rendered>(await renderer.RenderAsync(acme, Channel.Sms, "cart-reminder", model, default));
            Assert.Equal("Hi Ann, 120 USD in your cart.", rendered.Content.Body);
        }
        await using (var globex = App.Host.Services.GetRequiredService<IDocumentStore>().QuerySession("globex"))
        {
            var failed = Assert.IsType<RenderOutcome.Failed>(await renderer.RenderAsync(globex, Channel.Sms, "cart-reminder", model with { Workspace = "globex" }, default));
            Assert.Equal(RenderingFailureKind.TemplateMissing, failed.Failure.Kind);
        }
    }

    [Fact]
    public async Task a_preview_renders_the_saved_template_with_a_sample_in_the_contacts_zone()
    {
        await Put("cart-reminder", new
        {
            channel = "email",
            subject = "{{ traits.first_name }}, {{ properties.items | size }} items",
            body = "Sent {{ now | date: '%H:%M' }} from {{ context.app }}",
            html = "<b>{{ traits.first_name }}</b>",
        }, 201);

        var preview = await App.SendAsync(HttpMethod.Post, "/templates/cart-reminder/email/preview", new
        {
            traits = new { first_name = "Tom & Ann" },
            @event = new { name = "cart_updated", properties = new { items = new[] { 1, 2, 3 } } },
            context = new { app = "iOS" },
            zone = "Asia/Tokyo",
        }, 200);

        Assert.Equal("Tom & Ann, 3 items", preview.GetProperty("subject").GetString());
        Assert.Equal("Sent 17:00 from iOS", preview.GetProperty("body").GetString()); // 08:00 UTC is 17:00 in Tokyo
        Assert.Equal("<b>Tom &amp; Ann</b>", preview.GetProperty("html").GetString());
        Assert.Equal(1, preview.GetProperty("templateVersion").GetInt32());
    }

    [Fact]
    public async Task a_preview_shows_the_failure_the_engine_would_record()
    {
        await Put("cart-reminder", new { channel = "sms", body = "{% for i in (1..100) %}{{ properties.text }}{% endfor %}" }, 201);

        var problem = await App.SendAsync(HttpMethod.Post, "/templates/cart-reminder/sms/preview",
            new { @event = new { name = "x", properties = new { text = "twenty characters..." } } }, 422);

        Assert.Equal("tooLong", problem.GetProperty("kind").GetString());
        Assert.Equal("body", problem.GetProperty("field").GetString());
        await App.SendAsync(HttpMethod.Post, "/templates/nothing/sms/preview", new { }, 404);
        await App.SendAsync(HttpMethod.Post, "/templates/cart-reminder/sms/preview", new { zone = "Mars/Olympus" }, 400);
    }

    [Fact]
    public async Task a_channels_template_can_be_deleted_and_the_others_of_the_name_stay()
    {
        await Put("cart-reminder", CartEmail, 201);
        await Put("cart-reminder", new { channel = "sms", body = "x" }, 201);

        await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {App.Acme.ApiKey}");
            s.Delete.Url("/templates/cart-reminder/email");
            s.StatusCodeShouldBe(204);
        });

        await Get("/templates/cart-reminder/email", 404);
        Assert.Single((await Get("/templates/cart-reminder")).GetProperty("channels").EnumerateArray());
        var again = await Put("cart-reminder", CartEmail, 201);
        Assert.Equal(1, again.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task the_api_resolves_every_provider_channel()
    {
        var channels = App.Host.Services.GetRequiredService<EventSourcedJourneys.Dispatch.Channels.ChannelDispatcher>();

        Assert.All(new[] { Channel.Email, Channel.Sms, Channel.WhatsApp, Channel.Push, Channel.WebPush, Channel.Webhook },
            c => Assert.True(channels.Supports(c), $"{c} has no adapter"));
    }

    [Fact]
    public async Task a_draft_is_previewed_without_being_saved()
    {
        var preview = await App.SendAsync(HttpMethod.Post, "/templates/preview", new
        {
            template = new { channel = "sms", body = "Hi {{ traits.first_name | upcase }}" },
            traits = new { first_name = "ann" },
        }, 200);
        Assert.Equal("Hi ANN", preview.GetProperty("body").GetString());
        Assert.Empty((await Get("/templates")).EnumerateArray());

        var invalid = await App.SendAsync(HttpMethod.Post, "/templates/preview", new { template = new { channel = "sms", body = "{{ x" } }, 422);
        Assert.Equal("body", invalid.GetProperty("diagnostics")[0].GetProperty("field").GetString());
        await App.SendAsync(HttpMethod.Post, "/templates/preview", new { template = new { channel = "fax", body = "x" } }, 400);
    }
}
