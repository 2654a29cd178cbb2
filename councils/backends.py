"""The authentication backend: allauth's (phone + SMS code), loading the signed-in user together
with their verified memberships.

Every request of a signed-in person loads the user, and nearly every one then asks what they may
do here, which needs their memberships (councils.predicates.roles_in). One query with a LEFT
JOIN answers both: on vote day that is one round trip to PostgreSQL less per ballot and no ORM
compiling on the hottest path (bench/bench_ballots.py).
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from councils.models import Membership, MembershipStatus
from councils.predicates import remember_memberships


class AuthenticationBackend(AllauthBackend):
    def get_user(self, user_id):
        User = get_user_model()
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        columns = ", ".join(f'u."{f.column}"' for f in User._meta.concrete_fields)
        sql = (
            f"SELECT {columns}, m.council_id AS membership_council, m.role AS membership_role "
            f"FROM {User._meta.db_table} u LEFT JOIN {Membership._meta.db_table} m "
            f"ON m.user_id = u.{User._meta.pk.column} AND m.status = %s "
            f"WHERE u.{User._meta.pk.column} = %s"
        )
        rows = list(User.objects.raw(sql, [MembershipStatus.VERIFIED, pk]))
        if not rows:
            return None
        user = rows[0]
        remember_memberships(
            user,
            [(r.membership_council, r.membership_role) for r in rows if r.membership_council],
        )
        del user.membership_council, user.membership_role
        return user if self.user_can_authenticate(user) else None
