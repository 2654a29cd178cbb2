"""Drop the cached ballot copy of a cycle (services.cycle_for_ballot) whenever what a ballot
depends on changes: the cycle, its phases, its sub-budgets or its proposals."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from budgets.models import BudgetCycle, Phase, Proposal, SubBudget


@receiver([post_save, post_delete], sender=BudgetCycle)
def _cycle_changed(sender, instance, **kwargs):
    from budgets.services import forget_ballot_cycle

    forget_ballot_cycle(instance.pk)


@receiver([post_save, post_delete], sender=Phase)
@receiver([post_save, post_delete], sender=SubBudget)
@receiver([post_save, post_delete], sender=Proposal)
def _part_changed(sender, instance, **kwargs):
    from budgets.services import forget_ballot_cycle

    forget_ballot_cycle(instance.cycle_id)
