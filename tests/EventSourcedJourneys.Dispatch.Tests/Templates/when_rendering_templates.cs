using System.Text.Json;
using EventSourcedJourneys.Dispatch.Templates;
using EventSourcedJourneys.Domain.Messages;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Tests.Templates;

public sealed class when_rendering_templates
{
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 1, 22, 30);
    private static readonly Guid MessageId = Guid.Parse("0195a6c1-0000-7000-8000-00000000aaaa");
    private static readonly Guid ContactId = Guid.Parse("0195a6c1-0000-7000-8000-000000000001");

    private readonly TemplateRenderer renderer = new(new LiquidTemplates());

    private static MessageTemplate Template(Channel channel, string body, string? subject = null, string? html = null,
        string? title = null, Dictionary<string, string>? data = null) =>
        new(MessageTemplate.IdFor("cart-reminder", channel), "cart-reminder", channel, subject, body, html, title, data, 3, "hash", Now);

    private static TemplateModel Model(string? traits = null, string? properties = null, string? context = null, DateTimeZone? zone = null) =>
        new(MessageId, ContactId, "acme", Now,
            Traits: traits is null ? null : JsonDocument.Parse(traits).RootElement,
            Event: new TemplateEvent("cart_updated", properties is null ? null : JsonDocument.Parse(properties).RootElement,
                Instant.FromUtc(2026, 12, 1, 22, 0)),
            Context: context is null ? null : JsonDocument.Parse(context).RootElement,
            Zone: zone);

    private RenderedContent Rendered(MessageTemplate template, TemplateModel model)
    {
        var outcome = renderer.Render(template, model);
        return Assert.IsType<RenderOutcome.Rendered>(outcome).Content;
    }

    private RenderingFailure Failed(MessageTemplate template, TemplateModel model) =>
        Assert.IsType<RenderOutcome.Failed>(renderer.Render(template, model)).Failure;

    [Fact]
    public void traits_event_properties_and_context_personalise_the_message()
    {
        var content = Rendered(
            Template(Channel.Email,
                body: "Hi {{ traits.first_name }}, your {{ event.name }} of {{ properties.total }} {{ event.properties.currency }} from {{ context.app.name }} is waiting.",
                subject: "{{ traits.first_name | upcase }}, {{ properties.items | size }} items in your cart"),
            Model("""{"first_name":"Ann"}""", """{"total":120.5,"currency":"USD","items":[{"sku":"a"},{"sku":"b"}]}""",
                """{"app":{"name":"Acme iOS"}}"""));

        Assert.Equal("ANN, 2 items in your cart", content.Subject);
        Assert.Equal("Hi Ann, your cart_updated of 120.5 USD from Acme iOS is waiting.", content.Body);
        Assert.Equal("cart-reminder", content.Template);
        Assert.Equal(3, content.TemplateVersion);
    }

    [Fact]
    public void message_and_contact_metadata_are_available()
    {
        var content = Rendered(Template(Channel.Sms, "{{ message.id }} {{ contact.id }} {{ message.channel }} {{ message.template }} {{ message.workspace }}"), Model());

        Assert.Equal($"{MessageId} {ContactId} sms cart-reminder acme", content.Body);
    }

    [Fact]
    public void loops_conditionals_and_standard_filters_work_on_json_trees()
    {
        var content = Rendered(
            Template(Channel.Sms,
                "{% for item in properties.items %}{{ forloop.index }}.{{ item.name | capitalize }}({{ item.price | times: 2 }}){% unless forloop.last %}, {% endunless %}{% endfor %}" +
                "{% if traits.vip %} VIP{% else %} regular{% endif %} {{ traits.nickname | default: 'friend' }}"),
            Model("""{"vip":true}""", """{"items":[{"name":"shoe","price":10},{"name":"hat","price":2.5}]}"""));

        Assert.Equal("1.Shoe(20), 2.Hat(5.0) VIP friend", content.Body);
    }

    [Fact]
    public void dictionaries_become_json_trees()
    {
        var traits = TemplateModel.Tree(new Dictionary<string, object?>
        {
            ["first_name"] = "Ann",
            ["orders"] = 3,
            ["tags"] = new[] { "vip", "eu" },
            ["renews_on"] = Instant.FromUtc(2027, 1, 15, 0, 0),
        });
        var content = Rendered(Template(Channel.Sms, "{{ traits.first_name }} {{ traits.orders | plus: 1 }} {{ traits.tags | join: '+' }} {{ traits.renews_on | date: '%Y-%m-%d' }}"),
            new TemplateModel(MessageId, ContactId, "acme", Now, Traits: traits));

        Assert.Equal("Ann 4 vip+eu 2027-01-15", content.Body);
    }

    [Fact]
    public void a_missing_trait_renders_as_nothing_as_in_liquid()
    {
        Assert.Equal("Hi !", Rendered(Template(Channel.Sms, "Hi {{ traits.first_name }}!"), Model()).Body);
    }

    [Fact]
    public void dates_print_in_the_contacts_zone_and_now_is_the_decisions_now()
    {
        var paris = DateTimeZoneProviders.Tzdb["Europe/Paris"];
        var content = Rendered(
            Template(Channel.Sms, "{{ now | date: '%Y-%m-%d %H:%M' }} / {{ event.occurred_at | date: '%H:%M' }} / {{ properties.due | local | date: '%d %b %H:%M' }} / {{ properties.due | date: '%H:%M' }} / {{ 'soon' | local }}"),
            Model(properties: """{"due":"2026-07-01T09:30:00Z"}""", zone: paris));

        // 22:30 UTC in December is 23:30 in Paris; 09:30 UTC in July (summer time) is 11:30; without 'local' a date
        // keeps the offset it was written with.
        Assert.Equal("2026-12-01 23:30 / 23:00 / 01 Jul 11:30 / 09:30 / soon", content.Body);
    }

    [Fact]
    public void numbers_format_with_the_invariant_culture()
    {
        Assert.Equal("1234.5 1,234.50", Rendered(Template(Channel.Sms, "{{ properties.total }} {{ properties.total | format_number: 'N2' }}"),
            Model(properties: """{"total":1234.5}""")).Body);
    }

    [Fact]
    public void the_html_part_is_html_encoded_and_the_text_parts_are_not()
    {
        var content = Rendered(Template(Channel.Email, "Hi {{ traits.name }}", subject: "For {{ traits.name }}", html: "<p>Hi {{ traits.name }}</p>"),
            Model("""{"name":"<b>Tom & Jerry</b>"}"""));

        Assert.Equal("Hi <b>Tom & Jerry</b>", content.Body);
        Assert.Equal("For <b>Tom & Jerry</b>", content.Subject);
        Assert.Equal("<p>Hi &lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>", content.Html);
    }

    [Fact]
    public void a_subject_is_one_line_whatever_the_traits_contain()
    {
        var content = Rendered(Template(Channel.Email, "x", subject: "Hello {{ traits.name }}"), Model("""{"name":"Ann\r\nBcc: evil@example.com"}"""));

        Assert.Equal("Hello Ann Bcc: evil@example.com", content.Subject);
    }

    [Fact]
    public void push_title_and_data_are_rendered()
    {
        var content = Rendered(
            Template(Channel.Push, "{{ properties.total }} left in your cart", title: "{{ traits.first_name }}, still there?",
                data: new() { ["url"] = "app://cart/{{ properties.cart_id }}", ["kind"] = "reminder" }),
            Model("""{"first_name":"Ann"}""", """{"total":120,"cart_id":"c-42"}"""));

        Assert.Equal("Ann, still there?", content.Title);
        Assert.Equal("app://cart/c-42", content.Data!["url"]);
        Assert.Equal("reminder", content.Data["kind"]);
    }

    [Fact]
    public void an_sms_over_1600_characters_is_a_too_long_failure()
    {
        var failure = Failed(Template(Channel.Sms, "{% for i in (1..50) %}{{ properties.text }}{% endfor %}"),
            Model(properties: JsonSerializer.Serialize(new { text = new string('x', 40) })));

        Assert.Equal(RenderingFailureKind.TooLong, failure.Kind);
        Assert.Equal("body", failure.Field);
        Assert.Contains("1,600", failure.Reason);
    }

    [Fact]
    public void an_sms_of_exactly_1600_characters_is_sent()
    {
        Assert.Equal(1600, Rendered(Template(Channel.Sms, "{% for i in (1..40) %}{{ properties.text }}{% endfor %}"),
            Model(properties: JsonSerializer.Serialize(new { text = new string('x', 40) }))).Body.Length);
    }

    [Fact]
    public void a_push_payload_over_4096_bytes_is_a_too_long_failure()
    {
        var failure = Failed(Template(Channel.Push, "{{ properties.text }}", title: "t", data: new() { ["more"] = "{{ properties.text }}" }),
            Model(properties: JsonSerializer.Serialize(new { text = new string('é', 1100) })));

        Assert.Equal(RenderingFailureKind.TooLong, failure.Kind);
        Assert.Contains("4,096", failure.Reason);
    }

    [Fact]
    public void a_runaway_loop_stops_at_the_step_limit_as_a_runtime_error()
    {
        var failure = Failed(Template(Channel.Webhook, "{% for i in (1..1000000) %}{% endfor %}"), Model());

        Assert.Equal(RenderingFailureKind.RuntimeError, failure.Kind);
        Assert.Contains("limit", failure.Reason);
    }

    [Fact]
    public void a_filter_error_is_a_recorded_runtime_error_naming_the_field()
    {
        var failure = Failed(Template(Channel.Email, "ok", subject: "{{ 10 | divided_by: properties.zero }}"),
            Model(properties: """{"zero":0}"""));

        Assert.Equal(RenderingFailureKind.RuntimeError, failure.Kind);
        Assert.Equal("subject", failure.Field);
        Assert.Equal("cart-reminder", failure.Template);
    }

    [Fact]
    public void a_stored_source_that_does_not_parse_is_an_invalid_template_with_its_position()
    {
        var failure = Failed(Template(Channel.Sms, "Hi {{ traits.name "), Model());

        Assert.Equal(RenderingFailureKind.TemplateInvalid, failure.Kind);
        Assert.Contains("body 1:", failure.Reason);
    }

    [Fact]
    public void a_body_that_renders_to_nothing_is_an_empty_failure()
    {
        var failure = Failed(Template(Channel.Sms, "{{ traits.missing }}  "), Model());

        Assert.Equal(RenderingFailureKind.Empty, failure.Kind);
    }

    [Fact]
    public void no_file_can_be_included()
    {
        var failure = Failed(Template(Channel.Sms, "{% include '/etc/passwd' %}"), Model());

        Assert.Equal(RenderingFailureKind.RuntimeError, failure.Kind);
    }

    [Fact]
    public void one_renderer_serves_many_messages_at_once()
    {
        var template = Template(Channel.Sms, "Hi {{ traits.name }} #{{ properties.n }}");

        var bodies = Enumerable.Range(0, 500).AsParallel()
            .Select(n => Rendered(template, Model(JsonSerializer.Serialize(new { name = $"c{n}" }), JsonSerializer.Serialize(new { n }))).Body)
            .ToList();

        Assert.Equal(Enumerable.Range(0, 500).Select(n => $"Hi c{n} #{n}").Order(), bodies.Order());
    }
}
