using System.Linq.Expressions;
using CeleryKube.Protos.V1;

namespace CeleryKube.TaskService.Domain;

/// <summary>
/// Reuses one rule both in memory and in SQL: rewrites a predicate on a state into one on a task,
/// and binds a time argument as a query parameter (so EF caches one plan, not one per instant).
/// </summary>
internal static class StateExpressions
{
    /// <summary><c>s => rule(s)</c> becomes <c>t => rule(t.State)</c>.</summary>
    public static Expression<Func<TaskRecord, bool>> OnState(Expression<Func<TaskState, bool>> rule)
    {
        var task = Expression.Parameter(typeof(TaskRecord), "t");
        var body = new Replace(rule.Parameters[0], Expression.Property(task, nameof(TaskRecord.State))).Visit(rule.Body);
        return Expression.Lambda<Func<TaskRecord, bool>>(body, task);
    }

    /// <summary><c>(t, x) => rule(t, x)</c> becomes <c>t => rule(t, value)</c>, with the value as a parameter.</summary>
    public static Expression<Func<TaskRecord, bool>> Bind(Expression<Func<TaskRecord, long, bool>> rule, long value)
    {
        var holder = new Holder(value);
        var parameter = Expression.Property(Expression.Constant(holder), nameof(Holder.Value));
        var body = new Replace(rule.Parameters[1], parameter).Visit(rule.Body);
        return Expression.Lambda<Func<TaskRecord, bool>>(body, rule.Parameters[0]);
    }

    private sealed record Holder(long Value);

    private sealed class Replace(ParameterExpression from, Expression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
    }
}
