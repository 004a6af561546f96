from django.urls import path

from carnet.notifications import views

app_name = "notifications"
urlpatterns = [
    # The SMS provider's webhooks (carnet/notifications/views.py)
    path("sms/inbound/", views.sms_inbound, name="sms-inbound"),
    path("sms/receipt/", views.sms_receipt, name="sms-receipt"),
]
