namespace EventSourcedJourneys.Dsl.Tests.Examples;

static class ExampleFiles
{
    public static string Read(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Examples", name));

    public static string IssueExamples => Read("issue-examples.rules");
}
